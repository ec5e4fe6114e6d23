"""The CPU execution tier: RYLA's SDXL-class endpoints run end to end, not only validated. ComfyUI loads
checkpoints of the true SDXL architecture with random weights (test/weights/generate.py, cached under
.cache/weights by run.sh), and `modal-cdk serve --app instantid` answers /sdxl-turbo and /sdxl-lightning at
the smallest size their request model allows (64×64, one step where the request sets steps), with the
declared content type. The images are noise: what is proven is that the graph loads, samples and decodes."""

import io
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, start_comfyui, start_serve
from PIL import Image

WEIGHTS = Path(os.environ.get("RANDOM_WEIGHTS_DIR", ROOT / ".cache" / "weights"))
CHECKPOINTS = ["sd_xl_turbo_1.0_fp16.safetensors", "sdxl_lightning_4step.safetensors"]


@pytest.fixture(scope="module")
def ryla_instantid(tmp_path_factory):
    base = tmp_path_factory.mktemp("sdxl-base")
    (base / "models" / "checkpoints").mkdir(parents=True)
    for name in CHECKPOINTS:
        source = WEIGHTS / "checkpoints" / name
        assert source.exists(), f"{source}: run test/comfyui/run.sh, which generates it"
        (base / "models" / "checkpoints" / name).symlink_to(source)
    # --cache-none: each prompt's loaded checkpoint is let go after it, so two 13 GB CPU models never overlap.
    comfy, comfy_url = start_comfyui(base, extra_args=["--cache-none"])
    serve, api = start_serve(
        ROOT, comfy_url, base, log=open(base / "serve.log", "wb"), app="instantid", wait_seconds=120
    )
    yield api
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/sdxl-turbo", {"prompt": "a red apple", "width": 64, "height": 64, "steps": 1}),
        ("/sdxl-lightning", {"prompt": "a red apple", "width": 64, "height": 64}),
    ],
)
def test_the_sdxl_endpoint_executes_and_answers_its_declared_jpeg(ryla_instantid, path, body):
    started = time.monotonic()
    response = httpx.post(f"{ryla_instantid}{path}", json=body, timeout=300)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("JPEG", (64, 64))
    assert int(response.headers["x-execution-time-ms"]) > 0
    print(f"{path}: {time.monotonic() - started:.1f} s")

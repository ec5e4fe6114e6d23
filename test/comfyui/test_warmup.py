"""The warm-up on a real ComfyUI (ComfyApp warmup; issue 34): `modal-cdk serve --app instantid --warmup
/sdxl-turbo` runs /sdxl-turbo once, small, before it takes requests, so the first user request finds the
checkpoint loaded: ComfyUI's own execution report of that request lists the CheckpointLoaderSimple node as
cached (not timed: loaded or not is what the report says). Random-weight SDXL (test/weights/generate.py)."""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, start_comfyui, start_serve

WEIGHTS = Path(os.environ.get("RANDOM_WEIGHTS_DIR", ROOT / ".cache" / "weights"))
TURBO = "sd_xl_turbo_1.0_fp16.safetensors"


@pytest.fixture(scope="module")
def warmed(tmp_path_factory):
    base = tmp_path_factory.mktemp("warmup-base")
    (base / "models" / "checkpoints").mkdir(parents=True)
    source = WEIGHTS / "checkpoints" / TURBO
    assert source.exists(), f"{source}: run test/comfyui/run.sh, which generates it"
    (base / "models" / "checkpoints" / TURBO).symlink_to(source)
    comfy, comfy_url = start_comfyui(base)  # ComfyUI's default cache: what a deployed app runs with
    started = time.monotonic()
    serve, api = start_serve(
        ROOT,
        comfy_url,
        base,
        log=open(base / "serve.log", "wb"),
        app="instantid",
        wait_seconds=300,
        warmup="/sdxl-turbo",
    )
    print(f"serve up, warm-up included: {time.monotonic() - started:.1f} s")
    yield {"api": api, "comfy": comfy_url, "log": base / "serve.log"}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def history(comfy, prompt_id=None):
    return httpx.get(f"{comfy}/history" + (f"/{prompt_id}" if prompt_id else ""), timeout=10).json()


def test_the_first_request_after_the_warm_up_loads_no_model(warmed):
    # Before any request: the warm-up's one prompt, which ran the checkpoint loader.
    before = history(warmed["comfy"])
    assert len(before) == 1, before.keys()
    graph = next(iter(before.values()))["prompt"][2]
    loaders = sorted(n for n, node in graph.items() if node["class_type"] == "CheckpointLoaderSimple")
    assert loaders, graph
    assert "warm-up: /sdxl-turbo ready in" in warmed["log"].read_text()
    response = httpx.post(
        f"{warmed['api']}/sdxl-turbo",
        json={"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 1, "seed": 9},
        timeout=300,
    )
    assert response.status_code == 200, response.text[:500]
    entry = history(warmed["comfy"], response.headers["x-prompt-id"])[response.headers["x-prompt-id"]]
    cached = next(m[1]["nodes"] for m in entry["status"]["messages"] if m[0] == "execution_cached")
    assert set(loaders) <= set(cached), (loaders, cached)
    # The sampler did run again (a new prompt and seed): the request was served, not replayed from cache.
    samplers = [
        n for n, node in graph.items() if "Sampler" in node["class_type"] and "Select" not in node["class_type"]
    ]
    assert samplers and not set(samplers) & set(cached), (samplers, cached)

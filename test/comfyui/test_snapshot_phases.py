"""Memory snapshots' two phases (ComfyApp memorySnapshot), in order, against the real ComfyUI of the tier on
the CPU, through the runtime calls the generated app makes in them: phase 1 (`@modal.enter(snap=True)`)
starts ComfyUI with the GPU hidden by modal-cdk's extension (templates/runtime/modal_cdk_snapshot/), so it
does no device work; phase 2 (`@modal.enter(snap=False)`) gives ComfyUI the device, and then a request is
served. No --cpu is passed: this CPU-only torch fails ComfyUI's own device setup, which is what shows that
phase 1 skipped it. Whether a restored container takes the GPU is not testable here (no GPU, no snapshot)."""

import io
import shutil
from pathlib import Path

import pytest
from conftest import COMFY, COMFY_PYTHON, ROOT, free_port, load_module
from PIL import Image
from test_real_comfyui import APP_DIR

EXTENSION = ROOT / "templates" / "runtime" / "modal_cdk_snapshot"


@pytest.fixture
def make_runner(tmp_path, monkeypatch):
    """A runner that starts its own ComfyUI (as in the container) in a fresh base directory, with the
    extension installed or not."""
    runtime = load_module(APP_DIR / "comfy_runtime.py", "comfy_runtime_snapshot")
    monkeypatch.setattr(runtime.sys, "executable", str(COMFY_PYTHON))  # ComfyUI's own venv
    runners = []

    def make(extension):
        if extension:
            shutil.copytree(EXTENSION, tmp_path / "custom_nodes" / "modal_cdk_snapshot")
        args = ["--base-directory", str(tmp_path), "--database-url", "sqlite:///:memory:"]
        runner = runtime.ComfyRunner(COMFY, free_port(), APP_DIR / "workflows", extra_args=args)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop()


def test_without_the_extension_this_cpu_torch_cannot_start_comfyui(make_runner):
    with pytest.raises(RuntimeError, match="ComfyUI exited"):
        make_runner(extension=False).start(timeout=120)


def test_phase_1_starts_comfyui_with_the_gpu_hidden_then_phase_2_gives_it_the_device_and_it_serves(make_runner):
    runner = make_runner(extension=True)
    runner.start(timeout=120, hide_gpu=True)  # phase 1
    assert "GPU hidden until POST /modal-cdk/gpu" in runner.log_path.read_text()
    assert [d["type"] for d in runner._get("/system_stats")["devices"]] == ["cpu"]

    assert runner.attach_gpu()["device"] == "cpu"  # phase 2: no GPU on this machine, so it stays on the CPU
    assert runner.attach_gpu()["device"] == "cpu"  # and again: nothing more to do
    runner.comfy_dir = Path(runner.extra_args[1])  # its input/ and output/ are in the base directory here
    app = load_module(APP_DIR / "app.py", "comfy_tier_app_snapshot")
    body, media_type, _ = runner.execute(app.ENDPOINTS["/invert"], {"width": 8, "height": 4, "color": 0x000000})
    assert media_type == "image/png"
    image = Image.open(io.BytesIO(body))
    assert image.size == (8, 4) and image.getpixel((0, 0))[:3] == (255, 255, 255)  # black, inverted


@pytest.mark.parametrize(
    "packs",
    [
        ["instantid.json", "pulid-flux.json", "x-flux.json"],  # ryla-instantid
        ["res4lyf.json"],  # ryla-z-image
    ],
    ids=["ryla-instantid", "ryla-z-image"],
)
def test_the_snapshot_phases_with_the_stand_ins_of_the_packs_of_the_apps_that_now_use_them(
    make_runner, tmp_path, packs
):
    """ryla-instantid and ryla-z-image start from memory snapshots (their packs choose their device at run
    time: shared/data/comfyui/pack-import-without-gpu.md): phase 1 with the stand-ins of their packs loads
    every pack class with the GPU hidden, and phase 2's handover leaves them listed and ComfyUI serving."""
    from conftest import install_standin_nodes

    merged = install_standin_nodes(tmp_path, [ROOT / "bin" / "ryla" / "nodes" / p for p in packs])
    runner = make_runner(extension=True)
    runner.start(timeout=120, hide_gpu=True)  # phase 1
    listed = set(runner._get("/object_info"))
    assert set(merged["nodes"]) <= listed
    assert runner.attach_gpu()["device"] == "cpu"  # phase 2 (no GPU here)
    assert set(merged["nodes"]) <= set(runner._get("/object_info"))
    assert [d["type"] for d in runner._get("/system_stats")["devices"]] == ["cpu"]

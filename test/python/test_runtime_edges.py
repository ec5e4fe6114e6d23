"""The runtime at its edges, without a ComfyUI (the real-ComfyUI tier drives the same code through serve):
media ComfyUI's loaders cannot read, scheme spellings, IPv6 forms of private IPv4 addresses, a dead
ComfyUI, file names quoted as sent, slow request bodies, and no API docs unless asked for."""

import asyncio
import base64
import io
import ipaddress
import json
import subprocess

import pytest
from conftest import APP_IDS, import_app
from fastapi.testclient import TestClient
from PIL import Image
from test_runtime_outputs import png, runtime

IMAGE = {"type": "image", "max_bytes": 1 << 20, "max_pixels": 4096 * 3072, "max_frames": 1}
VIDEO = {"type": "video", "max_bytes": 1 << 20, "max_pixels": 1920 * 1080, "max_frames": 300}


def encoded(fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format=fmt)
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
# What fuzzing sent: each a 500 before (Pillow and PyAV read them, ComfyUI's loaders do not, or they crash).
HOSTILE = {
    "an SVG": SVG,
    "a 13-byte QOI": b"qoif" + bytes(9),
    "a DDS": encoded("DDS"),
    "a TIFF": encoded("TIFF"),
    "a QOI": encoded("QOI"),
    "a PNG sent as a video": encoded("PNG"),
}


def one_file_spec(tmp_path, field):
    (tmp_path / "one.json").write_text('{"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}}}')
    return {
        "workflow": "one.json",
        "fields": [{**field, "name": "media", "targets": [["1", "image"]]}],
        "output": "png",
        "content_type": "image/png",
        "output_node": "2",
        "timeout_seconds": 5,
    }


@pytest.mark.parametrize("kind", ["image", "video"])
@pytest.mark.parametrize("what", list(HOSTILE))
def test_media_comfyuis_loaders_cannot_read_is_a_422_naming_the_field(tmp_path, kind, what):
    if kind == "image" and what == "a PNG sent as a video":
        return  # a PNG is an image: accepted (test below)
    spec = one_file_spec(tmp_path, IMAGE if kind == "image" else VIDEO)
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    with pytest.raises(runtime.ComfyError) as refused:
        runner.bind(spec, {"media": base64.b64encode(HOSTILE[what]).decode()}, "r1")
    assert (refused.value.status, refused.value.detail["field"]) == (422, "media"), refused.value.detail
    assert refused.value.detail["message"].startswith("media: ")
    assert list((tmp_path / "input").glob("*")) == []


def test_the_image_formats_comfyui_reads_pass(tmp_path):
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    spec = one_file_spec(tmp_path, IMAGE)
    for fmt in ("PNG", "JPEG", "WEBP", "GIF", "BMP"):
        graph, _, inputs = runner.bind(spec, {"media": base64.b64encode(encoded(fmt)).decode()}, f"ok-{fmt}")
        assert graph["1"]["inputs"]["image"] == inputs[0].name


def test_upper_case_schemes_are_the_same_schemes(tmp_path):
    """RFC 3986 §3.1: schemes are case-insensitive, so DATA: is a data URL and HTTPS: an https URL."""
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    spec = one_file_spec(tmp_path, IMAGE)
    graph, _, inputs = runner.bind(spec, {"media": "DATA:image/PNG;base64," + base64.b64encode(png()).decode()}, "r2")
    assert inputs[0].suffix == ".png"
    fetched = []
    runner.url_policy.fetch = lambda url, field, kind, max_bytes, **kw: fetched.append(url) or (png(), "image/png")
    runner.bind(spec, {"media": "HTTPS://images.example.com/a.png"}, "r3")
    assert fetched == ["HTTPS://images.example.com/a.png"]


@pytest.mark.parametrize(
    "address",
    [
        "::a9fe:a9fe",
        "::ffff:0:7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::7f00:1",
        "2002:7f00:1::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "::ffff:169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
    ],
)
def test_ipv6_forms_of_private_addresses_are_not_public(address):
    assert runtime.is_public_address(ipaddress.ip_address(address)) is False


def test_a_public_address_is_public():
    assert runtime.is_public_address(ipaddress.ip_address("2606:4700:4700::1111")) is True
    assert runtime.is_public_address(ipaddress.ip_address("8.8.8.8")) is True


def test_a_dead_comfyui_is_a_503_without_its_log_and_health_says_so(tmp_path, capsys):
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    runner.process = subprocess.Popen(["false"])
    runner.process.wait()
    runner.log_path = tmp_path / "comfy.log"
    runner.log_path.write_text("Traceback of another request: prompt 'a secret prompt'\n")
    with pytest.raises(runtime.ComfyError) as dead:
        runner.execute(one_file_spec(tmp_path, IMAGE), {})
    assert dead.value.status == 503 and set(dead.value.detail) == {"message"}
    assert "secret" not in json.dumps(dead.value.detail)
    assert "a secret prompt" in capsys.readouterr().err  # the server's own log has it, once
    assert runner.health() == (503, {"status": "unhealthy", "message": dead.value.detail["message"]})
    module = import_app(APP_IDS[0])
    response = TestClient(module.create_api(runner)).get("/health")
    assert response.status_code == 503 and response.json()["status"] == "unhealthy"


def test_a_missing_model_file_is_named_as_the_request_sent_it(tmp_path):
    (tmp_path / "lora.json").write_text('{"1": {"class_type": "LoraLoader", "inputs": {"lora_name": "x"}}}')
    field = {
        "name": "lora_name",
        "type": "string",
        "targets": [["1", "lora_name"]],
        "model_folder": "loras",
        "format": "team/{lora_name}",
        "ensure_suffix": ".safetensors",
    }
    spec = {
        "workflow": "lora.json",
        "fields": [field],
        "output": "png",
        "content_type": "image/png",
        "output_node": "2",
        "timeout_seconds": 5,
    }
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    runner._get = lambda path, timeout=30: ["team/other.safetensors"]
    runner.queue_and_wait = lambda *a: pytest.fail("queued a prompt for a missing LoRA")
    with pytest.raises(runtime.ComfyError) as missing:
        runner.execute(spec, {"lora_name": "/home/me/loras/mine"})
    message = missing.value.detail["message"]
    assert "no file '/home/me/loras/mine' (looked up as 'team//home/me/loras/mine.safetensors')" in message
    # run() leaves a field's message as it is: the name the request sent, not cut down to "mine".
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as answered:
        runner.run(spec, {"lora_name": "/home/me/loras/mine"})
    assert "'/home/me/loras/mine'" in answered.value.detail["message"]


def run_guard(chunks, idle_seconds=0.2, total_seconds=5.0):
    """Drive SlowBodyGuard around an app that reads the whole body; `chunks`: (delay s, bytes, more) each."""
    from request_files import SlowBodyGuard

    sent = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RuntimeError("client disconnected")  # what Starlette raises (ClientDisconnect)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main():
        queue = list(chunks)

        async def receive():
            if not queue:
                await asyncio.sleep(3600)
            delay, body, more = queue.pop(0)
            await asyncio.sleep(delay)
            return {"type": "http.request", "body": body, "more_body": more}

        async def send(message):
            sent.append(message)

        await SlowBodyGuard(app, idle_seconds, total_seconds)({"type": "http"}, receive, send)

    asyncio.run(asyncio.wait_for(main(), 10))
    return sent


def test_a_body_that_stops_arriving_is_a_408_and_the_app_never_answers():
    sent = run_guard([(0, b'{"a":', True), (1.0, b"1}", False)])
    assert sent[0]["status"] == 408 and len(sent) == 2
    assert "did not arrive in time" in json.loads(sent[1]["body"])["detail"]["message"]


def test_a_body_that_drips_past_the_total_limit_is_a_408():
    sent = run_guard([(0.1, b" ", True)] * 20 + [(0, b"{}", False)], idle_seconds=1.0, total_seconds=0.5)
    assert sent[0]["status"] == 408


def test_a_body_sent_in_time_reaches_the_app():
    assert run_guard([(0, b'{"a":', True), (0.05, b"1}", False)])[0]["status"] == 200


def test_no_api_docs_unless_the_app_asks_for_them(tmp_path):
    module = import_app(APP_IDS[0])
    http = TestClient(module.create_api(runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert http.get(path).status_code == 404, path


def test_an_unforeseen_failure_is_a_json_500_not_plain_text(tmp_path):
    module = import_app(APP_IDS[0])
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)

    async def broken(spec, values, request):
        raise KeyError("something nobody foresaw")

    runner.handle = broken
    endpoint = next(a for a in __import__("conftest").MANIFEST["apps"] if a["id"] == APP_IDS[0])["endpoints"][0]
    from test_request_models import minimal_body

    response = TestClient(module.create_api(runner), raise_server_exceptions=False).post(
        endpoint["path"], json=minimal_body(endpoint)
    )
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]["message"] == "internal error (KeyError): see the app's logs"


def test_a_dead_comfyui_makes_the_container_stop_taking_inputs_once(tmp_path, monkeypatch):
    """The app passes stop_taking_inputs, which calls Modal's stop_fetching_inputs (recorded by a fake
    here); the runner calls it once however many requests see the dead ComfyUI."""
    import modal.experimental

    module = import_app(APP_IDS[0])
    called = []
    monkeypatch.setattr(modal.experimental, "stop_fetching_inputs", lambda: called.append("stop_fetching_inputs"))
    module.stop_taking_inputs()
    assert called == ["stop_fetching_inputs"]

    exits = []
    runner = runtime.ComfyRunner(
        comfy_dir=tmp_path, port=0, workflows_dir=tmp_path, on_comfyui_exit=lambda: exits.append(1)
    )
    runner.process = subprocess.Popen(["false"])
    runner.process.wait()
    runner.watch(every_seconds=0.05)
    runner._watcher.join(5)
    for _ in range(3):
        with pytest.raises(runtime.ComfyError) as dead:
            runner.check_alive()
    assert exits == [1]
    assert "this container takes no new requests and is being replaced" in dead.value.detail["message"]

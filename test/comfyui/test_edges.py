"""The served app at its edges, on a real ComfyUI through `modal-cdk serve` (issue 23): media ComfyUI's
loaders cannot read, clients that send too slowly, outputs without the embedded graph, a ComfyUI that
hangs (SIGSTOP) or is gone, and URL inputs that drip."""

import base64
import http.server
import io
import os
import signal
import socket
import threading
import time

import httpx
import pytest
from conftest import https_server, placeholder, start_comfyui, start_serve
from PIL import Image
from test_real_comfyui import APP_DIR, PROJECT, load_module

SHORT = {"MODAL_CDK_HEADER_TIMEOUT_SECONDS": "2", "MODAL_CDK_BODY_IDLE_SECONDS": "2"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("edges-base")
    placeholder(base, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(base)
    saved = {k: os.environ.get(k) for k in SHORT}
    os.environ.update(SHORT)  # serve's Python inherits them: short header and body timeouts
    try:
        serve, api = start_serve(PROJECT, comfy_url, base, log=open(base / "serve.log", "wb"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield {"api": api, "comfy": comfy_url, "base": base, "comfy_process": comfy}
    os.kill(comfy.pid, signal.SIGCONT)
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def encoded(fmt, size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name,data",
    [
        ("TIFF", encoded("TIFF")),
        ("DDS", encoded("DDS")),
        ("QOI", encoded("QOI")),
        ("a 13-byte QOI", b"qoif" + bytes(9)),
        ("SVG", b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'),
    ],
)
def test_media_comfyuis_loaders_cannot_read_is_a_422_never_a_500(servers, name, data):
    response = httpx.post(f"{servers['api']}/upload", json={"image": base64.b64encode(data).decode()}, timeout=30)
    assert response.status_code == 422, (name, response.text)
    assert response.json()["detail"]["field"] == "image"


def test_an_upper_case_data_url_is_a_data_url(servers):
    url = "DATA:image/png;base64," + base64.b64encode(encoded("PNG", (6, 5))).decode()
    response = httpx.post(f"{servers['api']}/upload", json={"image": url}, timeout=60)
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).size == (6, 5)


def test_an_https_url_to_an_ipv6_form_of_a_private_address_is_refused(servers):
    for url in (
        "https://[::a9fe:a9fe]/a.png",
        "https://[::ffff:0:7f00:1]/a.png",
        "https://[64:ff9b::7f00:1]/a.png",
        "HTTPS://[2002:7f00:1::]/a.png",
    ):
        response = httpx.post(f"{servers['api']}/upload", json={"image": url}, timeout=30)
        assert (
            response.status_code == 422 and "private, loopback or reserved" in response.json()["detail"]["message"]
        ), (url, response.text)


def test_outputs_carry_no_workflow_or_prompt(servers):
    """ComfyUI's SaveImage writes the prompt and the workflow into the PNG: the answer has neither."""
    response = httpx.post(f"{servers['api']}/invert", json={"width": 8, "height": 8}, timeout=60)
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).text == {}
    assert b"tEXt" not in response.content and b"class_type" not in response.content


def test_no_api_docs_are_served(servers):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(f"{servers['api']}{path}", timeout=10).status_code == 404, path


def raw_connection(servers):
    host, port = servers["api"].removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_a_client_that_never_finishes_its_headers_is_dropped(servers):
    with raw_connection(servers) as sock:
        sock.sendall(b"POST /invert HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 8


def test_a_client_that_stops_sending_its_body_gets_408(servers):
    with raw_connection(servers) as sock:
        sock.sendall(
            b'POST /invert HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"width":'
        )
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(4096):  # the head and the body may come apart; the server then closes
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"did not arrive in time" in answer
        assert time.monotonic() - started < 8


def test_a_hung_comfyui_gives_json_503_or_504_and_never_blocks_health(servers):
    """ComfyUI stopped (SIGSTOP) with a prompt running: a client that gives up cancels on a thread of its
    own, so /health still answers at once (503: ComfyUI does not answer); a request is a JSON 504/503
    within its time limit; once ComfyUI runs again, the cancelled prompt is gone and leaves no files."""
    comfy = servers["comfy_process"]
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("r", _post_quietly(servers, "/slow-patient", timeout=1.5)))
    thread.start()
    time.sleep(0.6)  # queued and running
    os.kill(comfy.pid, signal.SIGSTOP)
    try:
        thread.join(10)
        started = time.monotonic()
        health = httpx.get(f"{servers['api']}/health", timeout=15)
        assert health.status_code == 503 and health.json()["status"] == "unhealthy", health.text
        assert time.monotonic() - started < 6
        slow = httpx.post(f"{servers['api']}/slow", json={}, timeout=60)
        assert slow.status_code in (503, 504), slow.text
        assert (
            slow.headers["content-type"] == "application/problem+json" and "ComfyUI" in slow.json()["detail"]["message"]
        )
    finally:
        os.kill(comfy.pid, signal.SIGCONT)
    deadline = time.monotonic() + 60
    while True:
        queue = httpx.get(f"{servers['comfy']}/queue", timeout=10).json()
        leftovers = list((servers["base"] / "output").glob("mcdk_*"))
        if not queue["queue_running"] and not queue["queue_pending"] and not leftovers:
            break
        assert time.monotonic() < deadline, (queue, leftovers)
        time.sleep(1)
    assert httpx.get(f"{servers['api']}/health", timeout=10).status_code == 200


def _post_quietly(servers, path, timeout):
    try:
        return httpx.post(f"{servers['api']}{path}", json={}, timeout=timeout)
    except httpx.TimeoutException:
        return None


@pytest.fixture(scope="module")
def dripping_https(tmp_path_factory):
    """An https server on 127.0.0.1 whose /drip.png sends a PNG a byte at a time, 0.3 s apart."""
    body = encoded("PNG", (4, 4))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass  # the client gave up

        def log_message(self, *args):
            pass

    base_url, trusting, server = https_server(tmp_path_factory.mktemp("tls-drip"), Handler)
    yield f"{base_url}/drip.png", trusting
    server.shutdown()
    server.server_close()


def test_a_url_that_drips_stops_at_the_requests_deadline_or_when_its_client_goes(servers, dripping_https):
    runtime = load_module(APP_DIR / "comfy_runtime.py", "comfy_runtime_edges")
    app = load_module(APP_DIR / "app.py", "comfy_edges_app")
    url, trusting = dripping_https
    runner = runtime.ComfyRunner(
        servers["base"],
        None,
        APP_DIR / "workflows",
        url=servers["comfy"],
        url_policy=runtime.UrlPolicy(allow_address=lambda address: True, ssl_context=trusting),
    )
    spec = {**app.ENDPOINTS["/upload"], "timeout_seconds": 2}
    started = time.monotonic()
    with pytest.raises(runtime.ComfyError) as late:
        runner.execute(spec, {"image": url})
    assert late.value.status == 504 and late.value.detail["field"] == "image", late.value.detail
    assert time.monotonic() - started < 4  # a byte every 0.3 s never trips a read timeout: the deadline does

    job = runtime.Job()
    threading.Timer(0.5, lambda: setattr(job, "cancelled", True)).start()
    started = time.monotonic()
    with pytest.raises(runtime.ComfyError) as gone:
        runner.execute(app.ENDPOINTS["/upload"], {"image": url}, job=job)
    assert gone.value.status == 499 and time.monotonic() - started < 3


def test_a_container_whose_comfyui_exits_stops_taking_inputs_and_says_why(tmp_path):
    """The app's runner owns a real ComfyUI process (as on Modal); when it is killed, the watcher calls
    on_comfyui_exit once (on Modal: stop_fetching_inputs, recorded here by a fake), /health is 503, and a
    request is a 503 saying the container takes no new requests."""
    from fastapi.testclient import TestClient

    placeholder(tmp_path, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(tmp_path)
    runtime = load_module(APP_DIR / "comfy_runtime.py", "comfy_runtime_heal")
    app = load_module(APP_DIR / "app.py", "comfy_heal_app")
    stops = []
    runner = runtime.ComfyRunner(
        tmp_path, None, APP_DIR / "workflows", url=comfy_url, on_comfyui_exit=lambda: stops.append(time.monotonic())
    )
    runner.process = comfy  # owned, as the runner's own start() makes it on Modal
    runner.watch(every_seconds=0.2)
    http = TestClient(app.create_api(runner))
    assert http.post("/invert", json={"width": 4, "height": 4}).status_code == 200
    killed = time.monotonic()
    comfy.kill()
    comfy.wait(10)
    deadline = time.monotonic() + 5
    while not stops and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(stops) == 1 and stops[0] - killed < 3
    health = http.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"
    refused = http.post("/invert", json={"width": 4, "height": 4})
    assert refused.status_code == 503 and "takes no new requests" in refused.json()["detail"]["message"]
    assert len(stops) == 1

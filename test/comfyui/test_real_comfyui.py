"""The runtime against a real ComfyUI, through local serve: the synthesized test app
(test/fixtures/comfy-stack.ts) served by `modal-cdk serve`, as a client calls it; and, where a test needs
to reach inside (https inputs on loopback, a volume reload), the same app's runtime in-process."""

import base64
import http.server
import io
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import httpx
import pytest
from conftest import RELEASE, ROOT, https_server, load_module, placeholder, start_comfyui, start_serve
from PIL import Image

PROJECT = __import__("pathlib").Path(os.environ["COMFY_TIER_PROJECT"])  # a temp dir with cdk-like.json
APP_DIR = PROJECT / "synth.out" / "apps" / "local"  # where serve synthesizes the test app
UPLOAD_MAX_BYTES = 64 * 1024  # test/fixtures/comfy-stack.ts


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("comfy-base")
    placeholder(base, "checkpoints", "placeholder.safetensors")
    placeholder(base, "loras", "test/present.safetensors")
    comfy, comfy_url = start_comfyui(base)
    serve, api = start_serve(PROJECT, comfy_url, base, log=open(base / "serve.log", "wb"))
    yield {"api": api, "comfy": comfy_url, "base": base, "comfy_process": comfy}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


@pytest.fixture(scope="module")
def in_process(servers):
    """The test app's runtime and ENDPOINTS, imported here, driving the same ComfyUI."""
    runtime = load_module(APP_DIR / "comfy_runtime.py", "comfy_runtime_tier")
    app = load_module(APP_DIR / "app.py", "comfy_tier_app")

    def runner(**options):
        return runtime.ComfyRunner(servers["base"], None, APP_DIR / "workflows", url=servers["comfy"], **options)

    return runtime, app.ENDPOINTS, runner


def test_the_tier_runs_the_release_it_was_asked_for(servers):
    """COMFYUI_RELEASE picks the tree (run.sh runs these tests on 0.3.75 and on 0.28.2): the server says so."""
    stats = httpx.get(f"{servers['comfy']}/system_stats", timeout=10).json()
    assert stats["system"]["comfyui_version"] == RELEASE


def post(servers, path, body, **kwargs):
    return httpx.post(f"{servers['api']}{path}", json=body, **{"timeout": 60, **kwargs})


def png_bytes(colour, size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(colour, size=(8, 8)):
    return "data:image/png;base64," + base64.b64encode(png_bytes(colour, size)).decode()


def history_events(servers):
    history = httpx.get(f"{servers['comfy']}/history", timeout=10).json()
    return [m[0] for entry in history.values() for m in entry.get("status", {}).get("messages", [])]


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


def test_several_outputs_come_as_json(servers):
    response = post(servers, "/invert", {"width": 6, "height": 4, "batch_size": 2})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    files = response.json()["files"]
    assert len(files) == 2 and len({f["filename"] for f in files}) == 2
    assert all(Image.open(io.BytesIO(base64.b64decode(f["base64"]))).size == (6, 4) for f in files)


def test_an_uploaded_image_reaches_load_image(servers):
    response = post(servers, "/upload", {"image": png_data_url((255, 0, 0), (12, 10))})
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert (image.size, image.getpixel((3, 3))) == ((12, 10), (0, 255, 255))


@pytest.mark.parametrize(
    "url,why",
    [
        ("https://127.0.0.1:9/a.png", "loopback"),
        ("https://localhost:9/a.png", "loopback"),
        ("https://10.1.2.3/a.png", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::ffff:127.0.0.1]:9/a.png", "loopback"),
        ("http://example.com/a.png", "only https"),
    ],
)
def test_image_urls_to_private_addresses_or_without_https_are_refused(servers, url, why):
    response = post(servers, "/upload", {"image": url})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["field"] == "image" and why in detail["message"], detail


@pytest.fixture(scope="module")
def https_files(tmp_path_factory):
    """An https server on 127.0.0.1 with a self-signed certificate, and an SSL context that trusts it."""
    routes = {
        "/blue.png": (200, "image/png", png_bytes((0, 0, 255), (5, 7))),
        "/page.html": (200, "text/html; charset=utf-8", b"<html>not an image</html>"),
        "/big.png": (200, "image/png", b"\x89PNG" + bytes(UPLOAD_MAX_BYTES)),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/blue.png")
                self.end_headers()
                return
            status, media_type, body = routes[self.path]
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            if self.path != "/big.png":  # the big one streams without a length: the cap must hold anyway
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    base_url, trusting, server = https_server(tmp_path_factory.mktemp("tls"), Handler)
    yield base_url, trusting
    server.shutdown()
    server.server_close()


def test_an_https_image_url_is_fetched_checked_and_capped(in_process, https_files):
    runtime, endpoints, make_runner = in_process
    base_url, trusting = https_files
    # Loopback is allowed here only because the policy says so; the address check itself is tested above.
    runner = make_runner(url_policy=runtime.UrlPolicy(allow_address=lambda address: True, ssl_context=trusting))
    upload = endpoints["/upload"]
    for path in ("/blue.png", "/moved"):
        body, media_type, _ = runner.execute(upload, {"image": base_url + path})
        image = Image.open(io.BytesIO(body)).convert("RGB")
        assert (media_type, image.size, image.getpixel((2, 2))) == ("image/png", (5, 7), (255, 255, 0))
    with pytest.raises(runtime.ComfyError) as wrong_type:
        runner.execute(upload, {"image": base_url + "/page.html"})
    assert wrong_type.value.status == 422 and "text/html" in wrong_type.value.detail["message"]
    with pytest.raises(runtime.ComfyError) as too_big:
        runner.execute(upload, {"image": base_url + "/big.png"})
    assert too_big.value.status == 413 and str(UPLOAD_MAX_BYTES) in too_big.value.detail["message"]
    # The default policy trusts only public CAs: the self-signed server is refused, not fetched.
    with pytest.raises(runtime.ComfyError) as untrusted:
        make_runner(url_policy=runtime.UrlPolicy(allow_address=lambda address: True)).execute(
            upload, {"image": base_url + "/blue.png"}
        )
    assert untrusted.value.status == 422 and "CERTIFICATE_VERIFY_FAILED" in untrusted.value.detail["message"]


def test_an_inline_image_over_its_cap_is_413_naming_the_field(servers):
    data = base64.b64encode(b"\x89PNG" + bytes(UPLOAD_MAX_BYTES)).decode()
    response = post(servers, "/upload", {"image": data})
    assert response.status_code == 413, response.text
    assert response.json()["detail"]["field"] == "image"


def test_a_body_over_the_routes_cap_is_413_whether_sized_or_chunked(servers):
    # The route's cap: 1 MiB besides files + the image cap in base64; this body is over it.
    oversized = json.dumps({"image": "A" * (1024 * 1024 + UPLOAD_MAX_BYTES * 2)}).encode()
    sized = httpx.post(
        f"{servers['api']}/upload", content=oversized, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert sized.status_code == 413, sized.text

    def chunks():
        for start in range(0, len(oversized), 65536):
            yield oversized[start : start + 65536]

    chunked = httpx.post(
        f"{servers['api']}/upload", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert chunked.status_code == 413, chunked.text


def test_malformed_json_is_422(servers):
    response = httpx.post(
        f"{servers['api']}/invert", content=b'{"width": 8,', headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 422 and "json" in response.text.lower()


def test_node_errors_are_422_naming_node_and_class(servers):
    # The request model has no upper bound on width; ComfyUI's EmptyImage allows at most 16384.
    response = post(servers, "/invert", {"width": 20000})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["node_errors"][0]["node_id"] == "1" and detail["node_errors"][0]["class_type"] == "EmptyImage"
    assert "width" in json.dumps(detail)


def test_an_execution_error_is_500_naming_node_and_class_without_server_paths(servers):
    # The LoRA is there, so the request passes every check and ComfyUI's validation; the zero-byte
    # checkpoint then fails to load, with ComfyUI's message naming the file by its absolute path.
    response = post(servers, "/lora", {"lora_name": "present"})
    assert response.status_code == 500, response.text
    detail = response.json()["detail"]
    assert (detail["node_id"], detail["class_type"]) == ("1", "CheckpointLoaderSimple")
    assert detail["message"]
    assert str(servers["base"]) not in response.text and "/models/" not in response.text


def test_a_missing_lora_is_422_naming_it_and_is_never_queued(servers):
    queued_before = len(httpx.get(f"{servers['comfy']}/history", timeout=10).json())
    response = post(servers, "/lora", {"lora_name": "absent"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["field"] == "lora_name" and "test/absent.safetensors" in detail["message"]
    assert len(httpx.get(f"{servers['comfy']}/history", timeout=10).json()) == queued_before
    # A LoRA that is there passes the check and ComfyUI's validation; the zero-byte checkpoint then fails.
    present = post(servers, "/lora", {"lora_name": "present"})
    assert present.status_code == 500, present.text
    assert present.json()["detail"]["class_type"] == "CheckpointLoaderSimple"


def test_volumes_are_reloaded_before_a_lora_is_looked_up(servers, in_process):
    runtime, endpoints, make_runner = in_process
    reloads = []

    def reload_volumes():  # as a volume commit from the trainer becomes visible on reload
        reloads.append(True)
        placeholder(servers["base"], "loras", "test/trained-later.safetensors")

    with pytest.raises(runtime.ComfyError) as error:
        make_runner(reload_volumes=reload_volumes).execute(endpoints["/lora"], {"lora_name": "trained-later"})
    assert reloads == [True]
    assert (error.value.status, error.value.detail["class_type"]) == (500, "CheckpointLoaderSimple")  # past the check


def test_the_time_limit_is_504_and_interrupts_the_prompt(servers):
    interrupted_before = history_events(servers).count("execution_interrupted")
    started = time.monotonic()
    response = post(servers, "/slow", {})
    assert response.status_code == 504, response.text
    assert time.monotonic() - started < 10
    # ComfyUI stops the prompt at the next node: its history says it was interrupted.
    deadline = time.monotonic() + 120
    while history_events(servers).count("execution_interrupted") == interrupted_before:
        assert time.monotonic() < deadline, "the prompt was not interrupted"
        time.sleep(0.5)


def test_a_client_that_disconnects_cancels_its_prompt(servers):
    interrupted_before = history_events(servers).count("execution_interrupted")
    with pytest.raises(httpx.ReadTimeout):
        post(servers, "/slow-patient", {}, timeout=1.5)  # its own limit is 60 s: only the disconnect stops it
    deadline = time.monotonic() + 30
    while history_events(servers).count("execution_interrupted") == interrupted_before:
        assert time.monotonic() < deadline, "the prompt of the departed client kept running"
        time.sleep(0.3)
    queue = httpx.get(f"{servers['comfy']}/queue", timeout=10).json()
    assert queue["queue_running"] == [] and queue["queue_pending"] == []
    assert post(servers, "/invert", {"width": 4, "height": 4}).status_code == 200


def test_a_prompt_is_cancelled_by_its_own_id_through_the_best_route_the_release_has(servers, in_process):
    """The runner names its prompt itself (POST /prompt with our prompt_id) and cancels it with 0.28.2's
    POST /api/jobs/{id}/cancel, or, on a release without that route, a /queue delete and a targeted /interrupt."""
    runtime, endpoints, make_runner = in_process
    runner = make_runner()
    graph, _, _ = runner.bind(endpoints["/slow-patient"], {}, request_id="cancel-route")
    job = runtime.Job()
    result = {}

    def run():
        try:
            runner.queue_and_wait(graph, "cancel-route", 60, job)
        except runtime.ComfyError as e:
            result["status"] = e.status

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while job.prompt_id is None:
        assert time.monotonic() < deadline, "the prompt was never queued"
        time.sleep(0.1)
    assert str(uuid.UUID(job.prompt_id)) == job.prompt_id  # the canonical UUID the runner chose
    time.sleep(0.5)  # running now
    runner.cancel(job)
    thread.join(30)
    assert result["status"] == runtime.CLIENT_CLOSED_REQUEST
    assert runner.job_cancel_route == (RELEASE == "0.28.2")  # 0.3.75 and 0.10.0 have no such route
    deadline = time.monotonic() + 20
    while True:
        queue = httpx.get(f"{servers['comfy']}/queue", timeout=10).json()
        if queue["queue_running"] == [] and queue["queue_pending"] == []:
            break
        assert time.monotonic() < deadline, f"the cancelled prompt still runs: {queue}"
        time.sleep(0.3)


def verify(servers, *args):
    """`modal-cdk verify --app local --base-url <serve>` in the test project, as a user runs it."""
    return subprocess.run(
        ["node", ROOT / "bin" / "modal-cdk.js", "verify", "--app", "local", "--base-url", servers["api"], *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_verify_passes_endpoints_that_answer_as_declared(servers, tmp_path):
    """/invert from its defaults, /upload with verify's own 64×64 PNG: health, cold and warm, each a PNG."""
    report = tmp_path / "verify.md"
    run = verify(servers, "--endpoint", "/invert", "--endpoint", "/upload", "--report", str(report))
    assert run.returncode == 0, run.stdout + run.stderr
    for path in ("/invert", "/upload"):
        assert re.search(rf"^{path}\s+local\s+ok 200\s+\d+\s+\d+\s+\d+$", run.stdout, re.M), run.stdout
    assert "2 of 2 endpoint(s) passed." in run.stdout
    assert re.search(r"^\| `/upload` \| local \| ok 200 \|", report.read_text(), re.M)


def test_verify_names_a_failing_endpoint_and_exits_1(servers):
    """/lora's smokeRequest names a LoRA whose placeholder checkpoint cannot load: a 500 naming ComfyUI's
    reason. /slow fails too, how depends on this machine's speed: its work takes about its 2 s limit, so the
    client's 2 s wait runs out, or the server's limit answers 504, or it finishes and its batch of two comes
    back as JSON instead of the declared PNG. /invert still passes."""
    run = verify(servers, "--endpoint", "/slow", "--endpoint", "/lora", "--endpoint", "/invert", "--json")
    assert run.returncode == 1, run.stdout + run.stderr
    results = {r["path"]: r for r in json.loads(run.stdout)}
    assert results["/slow"]["result"] == "failed", results["/slow"]
    assert (
        results["/slow"]["problem"] in ("no answer within 2 s", 'content type "application/json", expected image/png')
        or results["/slow"]["status"] == 504
    ), results["/slow"]
    assert (results["/lora"]["result"], results["/lora"]["status"]) == ("failed", 500), results["/lora"]
    assert "CheckpointLoaderSimple" in results["/lora"]["problem"], results["/lora"]
    assert results["/invert"]["result"] == "passed"


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
    health = httpx.get(f"{servers['api']}/health", timeout=10)  # a dead ComfyUI is an unhealthy app
    assert health.status_code == 503 and health.json()["status"] == "unhealthy", health.text

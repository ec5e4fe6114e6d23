"""The generated clients (synth.out/clients/): the Python helper imports and works against a local HTTP
server, and the request JSON Schema in endpoints.json accepts exactly what the app's pydantic models do."""

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest
from conftest import MANIFEST, SYNTH_OUT, import_app
from fastapi.testclient import TestClient
from test_request_models import BAD_VALUES, RecordingRunner, minimal_body, sample

ENDPOINTS_JSON = json.loads((SYNTH_OUT / "clients" / "endpoints.json").read_text())


def load_client():
    spec = importlib.util.spec_from_file_location("generated_endpoints", SYNTH_OUT / "clients" / "endpoints.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


client = load_client()


def test_maps_match_the_manifest_and_endpoints_json():
    for app in MANIFEST["apps"]:
        for endpoint in app["endpoints"]:
            path = endpoint["path"]
            assert client.ENDPOINT_APP_MAP[path] == app["id"]
            assert client.ENDPOINT_TIMEOUT_MS[path] == endpoint["clientTimeoutMs"]
            assert client.endpoint_url(path) == ENDPOINTS_JSON["endpoints"][path]["url"]
    assert len(client.ENDPOINTS) == sum(len(a["endpoints"]) for a in MANIFEST["apps"])


class Server:
    """A local HTTP server whose answer each test sets; records method, path and headers."""

    def __init__(self):
        self.answer = None
        self.seen = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def handle_request(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.seen.append((self.command, self.path, dict(self.headers)))
                owner.answer(self)

            do_GET = do_POST = handle_request

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def reply(status, body=b"", headers=None):
    def answer(handler):
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def test_an_endpoint_past_150_s_is_called_as_a_job_unless_sync(server):
    """An endpoint that waits over 150 s (client policy rule 4) and takes jobs: call_endpoint submits it as
    a job, polls it, reads its result."""
    path = next(p for p, spec in client.ENDPOINTS.items() if spec["call_as_job"])  # both stacks have one
    server.seen.clear()

    def answer(handler):
        if handler.command == "POST":
            reply(202, json.dumps({"id": "j1", "status": "queued"}).encode(), {"Content-Type": "application/json"})(
                handler
            )
        elif handler.path == "/jobs/j1":
            reply(200, json.dumps({"id": "j1", "status": "succeeded"}).encode(), {"Content-Type": "application/json"})(
                handler
            )
        else:
            reply(200, b"\xff\xd8", {"Content-Type": "image/jpeg"})(handler)

    server.answer = answer
    assert client.call_endpoint(path, {}, base_url=server.url)[:2] == ("image/jpeg", b"\xff\xd8")
    assert [(m, p) for m, p, _ in server.seen] == [("POST", path), ("GET", "/jobs/j1"), ("GET", "/jobs/j1/result")]
    assert server.seen[0][2]["Prefer"] == "respond-async"


def test_follows_303_to_the_result(server):
    server.seen.clear()

    def answer(handler):
        if handler.command == "POST":
            reply(303, headers={"Location": "/flux?__modal_function_call_id=fc-1"})(handler)
        else:
            reply(200, b"\xff\xd8\xff", {"Content-Type": "image/jpeg", "X-Seed": "7"})(handler)

    server.answer = answer
    content_type, data, headers = client.call_endpoint(
        "/flux", {"prompt": "a cat"}, base_url=server.url, proxy_auth=("wk-1", "ws-1"), sync=True
    )
    assert (content_type, data, headers["X-Seed"]) == ("image/jpeg", b"\xff\xd8\xff", "7")
    assert [(m, p) for m, p, _ in server.seen] == [("POST", "/flux"), ("GET", "/flux?__modal_function_call_id=fc-1")]
    assert server.seen[0][2]["Modal-Key"] == "wk-1" and server.seen[1][2]["Modal-Secret"] == "ws-1"


def test_server_408_is_not_a_client_timeout(server):
    server.answer = reply(408, b"Missing request, possibly due to expiry or cancellation")
    with pytest.raises(client.EndpointError) as error:
        client.call_endpoint("/flux", {"prompt": "x"}, base_url=server.url, sync=True)
    assert (error.value.kind, error.value.status) == ("server-timeout", 408)


def test_client_timeout_when_the_server_never_answers(server):
    server.answer = lambda handler: threading.Event().wait(5)
    with pytest.raises(client.EndpointError) as error:
        client.call_endpoint("/flux", {"prompt": "x"}, base_url=server.url, timeout_ms=300, sync=True)
    assert error.value.kind == "client-timeout"


def test_other_http_errors_keep_the_body(server):
    server.answer = reply(422, b'{"detail": "prompt: field required"}')
    with pytest.raises(client.EndpointError) as error:
        client.call_endpoint("/flux", {}, base_url=server.url, sync=True)
    assert (error.value.kind, error.value.status) == ("http", 422) and "field required" in error.value.body


def bodies(endpoint):
    """The minimal valid body, then bodies that are each wrong in one way, or valid in another spelling."""
    base = minimal_body(endpoint)
    yield "minimal", base
    for field in endpoint["fields"]:
        name = field["name"]
        yield f"{name}: wrong type", {**base, name: BAD_VALUES[field["type"]]}
        if not field.get("clamp"):
            if "max" in field:
                yield f"{name}: over max", {**base, name: field["max"] + 1}
            if "min" in field:
                yield f"{name}: under min", {**base, name: field["min"] - 1}
        if "maxLength" in field:
            yield f"{name}: too long", {**base, name: "x" * (field["maxLength"] + 1)}
        if "maxItems" in field:
            yield f"{name}: a list", {**base, name: [sample(field)] * field["maxItems"]}
            yield f"{name}: too many", {**base, name: [sample(field)] * (field["maxItems"] + 1)}
        if field["required"]:
            yield f"{name}: missing", {k: v for k, v in base.items() if k != name}
            for alias in field["aliases"]:
                yield f"{name}: as {alias}", {**{k: v for k, v in base.items() if k != name}, alias: base[name]}
    for group in endpoint["requireOneOf"]:
        yield f"none of {group}", {k: v for k, v in base.items() if k not in group}


@pytest.mark.parametrize("app_id", [a["id"] for a in MANIFEST["apps"]])
def test_json_schema_agrees_with_the_pydantic_models(app_id):
    entry = next(a for a in MANIFEST["apps"] if a["id"] == app_id)
    http = TestClient(import_app(app_id).create_api(RecordingRunner()))
    checked = 0
    for endpoint in entry["endpoints"]:
        validator = jsonschema.Draft202012Validator(ENDPOINTS_JSON["endpoints"][endpoint["path"]]["requestSchema"])
        for case, body in bodies(endpoint):
            server_accepts = http.post(endpoint["path"], json=body).status_code == 200
            assert validator.is_valid(body) == server_accepts, (endpoint["path"], case)
            checked += 1
    assert checked >= 5 * len(entry["endpoints"])  # the valid body and its mutations, per endpoint

"""The runtime's last gaps (issue 33, item 6), each against the shipped runtime files without a ComfyUI:
a body over its route's cap is one 413 shape whether sized or chunked; an empty Idempotency-Key is a 422
naming the header; a cancelled or failed job's result says so in its title; a job's event stream carries
ids, a reconnect delay and keep-alive comments; /health says "refused" for a refused connection; local
serve's --allow-private-webhooks never lets a webhook reach a link-local or metadata address."""

import asyncio
import ipaddress
import json
import socket

import pytest
from conftest import MANIFEST, SYNTH_OUT, import_app
from fastapi.testclient import TestClient
from test_request_models import RecordingRunner, minimal_body
from test_runtime_outputs import runtime

APP = MANIFEST["apps"][0]
sys_path = str(SYNTH_OUT / "apps" / APP["id"])


@pytest.fixture
def app_module(monkeypatch):
    monkeypatch.syspath_prepend(sys_path)
    return import_app(APP["id"])


def jobs_of(module):
    """Jobs whose starts are recorded, not run: a job stays queued until the test moves it."""
    import jobs as jobs_module

    return jobs_module, jobs_module.Jobs(
        jobs_module.ExpiringStore(jobs_module.LockedDict()), lambda *a: None, module.ENDPOINTS, 10, 60, None
    )


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_a_body_over_the_cap_is_one_413_shape_sized_or_chunked(app_module):
    client = TestClient(app_module.create_api(RecordingRunner()))
    endpoint = APP["endpoints"][0]
    oversized = json.dumps({**minimal_body(endpoint), "padding": "A" * (64 << 20)}).encode()
    sized = problem(client.post(endpoint["path"], content=oversized, headers={"Content-Type": "application/json"}), 413)

    def chunks():
        for start in range(0, len(oversized), 1 << 16):
            yield oversized[start : start + (1 << 16)]

    chunked = problem(
        client.post(endpoint["path"], content=chunks(), headers={"Content-Type": "application/json"}), 413
    )
    assert sized["title"] == chunked["title"] == "Request too large"
    assert f"POST {endpoint['path']} takes at most" in sized["detail"]["message"]
    assert f"is {len(oversized)} bytes" in sized["detail"]["message"]
    assert "is more than" in chunked["detail"]["message"] and "takes at most" in chunked["detail"]["message"]


@pytest.mark.parametrize("key,said", [("", "got empty"), ("   ", "got empty"), ("k" * 256, "got 256 characters")])
def test_an_empty_or_overlong_idempotency_key_is_a_422_naming_the_header(app_module, key, said):
    _, jobs = jobs_of(app_module)
    path = next(iter(app_module.ENDPOINTS))
    status, body = jobs.submit(path, {}, key)
    assert status == 422 and body["errors"][0]["field"] == "Idempotency-Key"
    assert said in body["detail"] and "expected 1 to 255 characters" in body["detail"]
    assert jobs.active() == []  # nothing queued
    assert jobs.submit(path, {}, "a-uuid")[0] == 202


def test_a_cancelled_or_failed_jobs_result_says_so(app_module):
    module, jobs = jobs_of(app_module)
    path = next(iter(app_module.ENDPOINTS))
    _, queued = jobs.submit(path, {})
    status, body = jobs.result(queued["id"])
    assert (status, body["title"]) == (409, "Job not finished")
    jobs.cancel(queued["id"])
    status, body = jobs.result(queued["id"])
    assert (status, body["title"]) == (409, "Job cancelled") and "was cancelled: it has no result" in body["detail"]
    _, other = jobs.submit(path, {})
    jobs.finish(jobs.record(other["id"]), module.FAILED, error={"status": 500, "detail": {"message": "node 3 failed"}})
    status, body = jobs.result(other["id"])
    assert (status, body["title"], body["detail"]["message"]) == (500, "Job failed", "node 3 failed")


def test_the_event_stream_has_ids_a_retry_and_keep_alive_comments(app_module):
    import job_routes

    module, jobs = jobs_of(app_module)
    path = next(iter(app_module.ENDPOINTS))
    _, job = jobs.submit(path, {})

    async def first(n, heartbeat):
        stream, got = job_routes.job_event_stream(jobs, job["id"], heartbeat_seconds=heartbeat), []
        async for chunk in stream:
            got.append(chunk)
            if len(got) == n:
                break
        await stream.aclose()
        return got

    retry, state, keep_alive = asyncio.run(first(3, 0.3))
    assert retry == f"retry: {job_routes.RECONNECT_MILLISECONDS}\n\n"
    lines = state.splitlines()
    assert (
        lines[0].startswith("id: ") and lines[1] == "event: progress" and json.loads(lines[2][6:])["status"] == "queued"
    )
    assert keep_alive == ": keep-alive\n\n"  # nothing changed for the heartbeat's time
    # A reconnect (EventSource sends Last-Event-ID) gets the current state first, with the same id.
    again = asyncio.run(first(2, 10))[1]
    assert again.splitlines()[0] == lines[0]
    assert job_routes.HEARTBEAT_SECONDS <= 15


def test_health_says_refused_when_nothing_listens(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=port, workflows_dir=tmp_path)
    status, body = runner.health()
    assert status == 503 and "refused the connection" in body["message"], body


@pytest.mark.parametrize(
    "address,ok",
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("::1", True),
        ("169.254.169.254", False),
        ("169.254.1.1", False),
        ("fe80::1", False),
        ("fd00:ec2::254", False),
        ("::ffff:169.254.169.254", False),
    ],
)
def test_allow_private_webhooks_never_reaches_link_local_or_metadata(app_module, address, ok):
    import webhooks

    assert webhooks.allowed(ipaddress.ip_address(address), allow_private=True) is ok
    assert webhooks.allowed(ipaddress.ip_address(address), allow_private=False) is False


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]:8080/hook"])
def test_a_link_local_webhook_is_refused_before_any_connection(app_module, url, monkeypatch):
    import webhooks

    monkeypatch.setattr(webhooks.http.client.HTTPConnection, "request", lambda *a, **k: pytest.fail("connected"))
    problem_text = webhooks.url_problem(url, allow_private=True)
    assert problem_text and "a link-local or metadata address" in problem_text
    status, error = webhooks.post(url, b"{}", {}, True)
    assert status is None and "link-local" in error

"""Jobs on the real ComfyUI, through `modal-cdk serve` (its local backend: a worker thread and an in-process
store behind the same job routes and `run_job` as on Modal): submit → progress events → a result identical
to the synchronous answer; the same 422 before anything is queued; cancel while queued and while running
(ComfyUI's queue shows it); idempotent resubmit; the queue limit's 429; a result that expired (410); a job
whose ComfyUI is killed ends failed with why."""

import json
import signal
import time

import httpx
import pytest
from conftest import placeholder, start_comfyui, start_serve
from test_real_comfyui import PROJECT

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("jobs-base")
    placeholder(base, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(base)
    serve, api = start_serve(
        PROJECT,
        comfy_url,
        base,
        log=open(base / "serve.log", "wb"),
        extra=["--keep-job-results", "3", "--results-dir", str(base / "results")],
        env={"MODAL_CDK_SWEEP_SECONDS": "0.5"},
    )
    yield {"api": api, "comfy": comfy_url, "base": base}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def submit(servers, path, body, headers=None):
    return httpx.post(f"{servers['api']}{path}", json=body, headers={**ASYNC, **(headers or {})}, timeout=30)


def status(servers, job_id):
    return httpx.get(f"{servers['api']}/jobs/{job_id}", timeout=10).json()


def wait_for(servers, job_id, states, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = status(servers, job_id)
        if shown["status"] in states:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is still {shown['status']} after {seconds} s")


def comfy_queue(servers):
    return httpx.get(f"{servers['comfy']}/queue", timeout=10).json()


def test_submit_answers_202_and_the_result_is_the_synchronous_answer(servers):
    body = {"width": 24, "height": 16, "color": 0x336699}
    response = submit(servers, "/invert", body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/jobs/{job['id']}" == job["urls"]["status"]
    assert response.headers["preference-applied"] == "respond-async"
    assert job["endpoint"] == "/invert" and job["status"] in ("queued", "running", "succeeded")
    assert job["created_at"].endswith("Z") and set(job["urls"]) == {"self", "status", "result", "cancel", "events"}
    assert job["urls"]["self"] == job["urls"]["status"]  # Comfy API v2's name for it
    done = wait_for(servers, job["id"], ("succeeded",))
    assert set(done["timings"]) == {"queued_ms", "execution_ms", "total_ms"}
    assert done["expires_at"].endswith("Z") and done["expires_at"] > done["created_at"]  # when the result goes
    result = httpx.get(f"{servers['api']}/jobs/{job['id']}/result", timeout=10)
    direct = httpx.post(f"{servers['api']}/invert", json=body, timeout=30)
    assert result.status_code == direct.status_code == 200
    assert result.headers["content-type"] == direct.headers["content-type"] == "image/png"
    assert result.content == direct.content
    as_json = httpx.get(f"{servers['api']}/jobs/{job['id']}/result", headers={"Accept": "application/json"}, timeout=10)
    assert as_json.status_code == 200 and as_json.json()["files"][0]["filename"].endswith(".png")
    direct_json = httpx.post(f"{servers['api']}/invert", json=body, headers={"Accept": "application/json"}, timeout=30)
    # The synchronous route's JSON form: the same files and texts (each file named by its own request's id).
    form = lambda answer: ([f["base64"] for f in answer["files"]], answer["texts"])  # noqa: E731
    assert form(as_json.json()) == form(direct_json.json()) and set(as_json.json()) == set(direct_json.json())


def test_a_bad_body_is_the_same_422_and_nothing_is_queued(servers):
    bad = {"width": "wide"}
    as_job = submit(servers, "/invert", bad)
    direct = httpx.post(f"{servers['api']}/invert", json=bad, timeout=10)
    assert as_job.status_code == direct.status_code == 422
    same = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731 - one id per answer
    assert same(as_job.json()) == same(direct.json()) and "location" not in as_job.headers


def test_events_stream_progress_and_end_with_the_final_status(servers):
    job = submit(servers, "/slow-patient", {}).json()
    events = []
    with httpx.stream("GET", f"{servers['api']}/jobs/{job['id']}/events", timeout=90) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[len("data: ") :])))
    assert events[-1][0] == "succeeded" and events[-1][1]["status"] == "succeeded"
    running = [data for kind, data in events if kind == "progress" and data["status"] == "running"]
    assert any(data["progress"] and data["progress"]["node"] for data in running), events
    # Each a full snapshot a UI can draw: the whole graph's progress, never going back.
    drawn = [data["progress"] for data in running if data["progress"]]
    assert all(0 <= p["value"] <= 1 and 1 <= p["nodes_total"] and p["node_class"] for p in drawn), drawn
    values = [p["value"] for p in drawn]
    assert values == sorted(values), values


def test_result_is_409_while_running_and_404_for_an_unknown_job(servers):
    job = submit(servers, "/slow-patient", {}).json()
    wait_for(servers, job["id"], ("running",))
    early = httpx.get(f"{servers['api']}/jobs/{job['id']}/result", timeout=10)
    assert early.status_code == 409 and early.headers["content-type"] == "application/problem+json"
    assert early.json()["status"] == 409 and "running" in early.json()["detail"]
    unknown = httpx.get(f"{servers['api']}/jobs/nope", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["title"] == "No such job"
    wait_for(servers, job["id"], ("succeeded",))


def test_cancel_while_running_interrupts_its_prompt_and_while_queued_it_never_runs(servers):
    running = submit(servers, "/slow-patient", {}).json()
    queued = submit(servers, "/slow-patient", {}).json()
    wait_for(servers, running["id"], ("running",))
    waiting = status(servers, queued["id"])
    assert waiting["status"] == "queued" and waiting["queue_position"] == 1  # next, behind the running one
    cancelled = httpx.post(f"{servers['api']}/jobs/{queued['id']}/cancel", timeout=10)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    canceling = httpx.post(f"{servers['api']}/jobs/{running['id']}/cancel", timeout=10).json()
    assert canceling["status"] in ("canceling", "cancelled"), canceling  # canceling: the cancel in flight
    assert httpx.post(f"{servers['api']}/jobs/{running['id']}/cancel", timeout=10).status_code == 200  # idempotent
    stopped = wait_for(servers, running["id"], ("cancelled", "succeeded", "failed"), seconds=30)
    assert stopped["status"] == "cancelled", stopped
    deadline = time.monotonic() + 10
    while comfy_queue(servers)["queue_running"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert comfy_queue(servers) == {"queue_running": [], "queue_pending": []}
    time.sleep(1)  # the worker would have taken the queued one by now
    never = status(servers, queued["id"])
    assert never["status"] == "cancelled" and "execution_ms" not in never["timings"]


def test_an_idempotency_key_returns_the_same_job_and_refuses_another_body(servers):
    first = submit(servers, "/invert", {"width": 8}, {"Idempotency-Key": "k-1"})
    again = submit(servers, "/invert", {"width": 8}, {"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
    other = submit(servers, "/invert", {"width": 9}, {"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"] == [{"field": "Idempotency-Key", "message": "already used with another body"}]
    wait_for(servers, first.json()["id"], ("succeeded",))


def test_a_result_past_its_keep_time_is_410_and_its_files_are_deleted(servers):
    job = submit(servers, "/invert", {"width": 4}).json()
    done = wait_for(servers, job["id"], ("succeeded",))
    [output] = done["outputs"]
    folder = servers["base"] / "results" / job["id"]
    assert (folder / output["name"]).stat().st_size == output["size_bytes"]  # a file in --results-dir
    time.sleep(3.5)  # served with --keep-job-results 3
    gone = httpx.get(f"{servers['api']}/jobs/{job['id']}/result", timeout=10)
    assert gone.status_code == 410 and gone.json()["title"] == "Result expired"
    assert httpx.get(f"{servers['api']}{output['url']}", timeout=10).status_code == 410
    assert status(servers, job["id"])["status"] == "succeeded"  # the record outlives the result
    deadline = time.monotonic() + 5
    while folder.exists() and time.monotonic() < deadline:  # the sweep runs every 0.5 s here (60 s by default)
        time.sleep(0.1)
    assert not folder.exists()


def test_past_the_queue_limit_a_submit_is_429_with_retry_after(tmp_path):
    placeholder(tmp_path, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(tmp_path)
    serve, api = start_serve(PROJECT, comfy_url, tmp_path, extra=["--max-active-jobs", "1"])
    try:
        first = httpx.post(f"{api}/slow-patient", json={}, headers=ASYNC, timeout=30)
        second = httpx.post(f"{api}/slow-patient", json={}, headers=ASYNC, timeout=30)
        assert first.status_code == 202
        assert second.status_code == 429 and int(second.headers["retry-after"]) > 0
        assert second.json()["title"] == "Too many jobs"
        # A synchronous request is not a job: the limit does not apply to it.
        assert httpx.post(f"{api}/invert", json={"width": 4}, timeout=60).status_code == 200
    finally:
        serve.send_signal(signal.SIGINT)
        comfy.kill()
        serve.wait(10)


def test_a_job_whose_comfyui_is_killed_ends_failed_with_why(tmp_path):
    placeholder(tmp_path, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(tmp_path)
    serve, api = start_serve(PROJECT, comfy_url, tmp_path)
    try:
        job = httpx.post(f"{api}/slow-patient", json={}, headers=ASYNC, timeout=30).json()
        deadline = time.monotonic() + 30
        while httpx.get(f"{api}/jobs/{job['id']}", timeout=10).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        comfy.kill()
        deadline = time.monotonic() + 30
        while (shown := httpx.get(f"{api}/jobs/{job['id']}", timeout=10).json())["status"] == "running":
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
        assert shown["status"] == "failed" and shown["error"]["status"] == 503
        assert "ComfyUI" in shown["error"]["detail"]["message"]
        result = httpx.get(f"{api}/jobs/{job['id']}/result", timeout=10)
        assert result.status_code == 503 and result.json()["detail"] == shown["error"]["detail"]
        assert result.headers["content-type"] == "application/problem+json"
    finally:
        serve.send_signal(signal.SIGINT)
        comfy.kill()
        serve.wait(10)


def test_the_generated_python_client_submits_waits_and_reads_the_result(servers):
    """clients/endpoints.py against serve: submit_job → wait_for_job (each change seen) → job_result, the
    same bytes as call_endpoint; cancel_job on an ended job changes nothing."""
    from conftest import load_module

    client = load_module(PROJECT / "synth.out" / "clients" / "endpoints.py", "endpoints_client_jobs")
    assert client.jobs_url("/invert", "acme") == "https://acme--cdktest-local-jobs-api.modal.run"
    body = {"width": 12, "color": 0xAA0000}
    job = client.submit_job("/invert", body, base_url=servers["api"], idempotency_key="client-1")
    seen = []
    done = client.wait_for_job("/invert", job["id"], base_url=servers["api"], on_progress=seen.append, poll_ms=50)
    assert done["status"] == "succeeded" and seen[-1]["status"] == "succeeded"
    content_type, data, _ = client.job_result("/invert", job["id"], base_url=servers["api"])
    direct = client.call_endpoint("/invert", body, base_url=servers["api"])
    assert (content_type, data) == direct[:2]
    assert client.cancel_job("/invert", job["id"], base_url=servers["api"])["status"] == "succeeded"
    with pytest.raises(client.EndpointError) as error:
        client.get_job("/invert", "nope", base_url=servers["api"])
    assert error.value.status == 404


def test_the_job_list_through_the_python_client_newest_first_filtered_by_metadata(servers):
    """GET /jobs on serve (list_jobs of clients/endpoints.py): the jobs submitted with Job-Metadata come back
    newest first, filtered by a metadata value and by endpoint, each as GET /jobs/{id} shows it, with
    metadata; a limit of 1 gives a cursor that continues the list."""
    from conftest import load_module

    client = load_module(PROJECT / "synth.out" / "clients" / "endpoints.py", "endpoints_client_list")
    tag = f"list-{time.monotonic_ns()}"
    first = client.submit_job("/invert", {"width": 8}, base_url=servers["api"], metadata={"run": tag, "n": "1"})
    second = client.submit_job("/invert", {"width": 9}, base_url=servers["api"], metadata={"run": tag, "n": "2"})
    for job in (first, second):
        client.wait_for_job("/invert", job["id"], base_url=servers["api"], poll_ms=50)
    listed = client.list_jobs("/invert", metadata={"run": tag}, base_url=servers["api"])
    assert [j["id"] for j in listed["jobs"]] == [second["id"], first["id"]] and listed["next_cursor"] is None
    assert listed["jobs"][0]["metadata"] == {"run": tag, "n": "2"} and listed["jobs"][0]["status"] == "succeeded"
    page = client.list_jobs("/invert", metadata={"run": tag}, endpoint="/invert", limit=1, base_url=servers["api"])
    assert [j["id"] for j in page["jobs"]] == [second["id"]] and page["next_cursor"]
    rest = client.list_jobs("/invert", metadata={"run": tag}, cursor=page["next_cursor"], base_url=servers["api"])
    assert [j["id"] for j in rest["jobs"]] == [first["id"]]
    with pytest.raises(client.EndpointError) as error:
        client.list_jobs("/invert", limit=0, base_url=servers["api"])
    assert error.value.status == 422 and '"field":"limit"' in error.value.body.replace(" ", "")


def test_verify_jobs_runs_one_endpoint_through_the_job_path(servers):
    import subprocess

    from conftest import ROOT

    run = subprocess.run(
        ["node", ROOT / "bin" / "modal-cdk.js", "verify", "--app", "local", "--base-url", servers["api"]]
        + ["--endpoint", "/invert", "--jobs", "--json"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    checks = {c["path"]: c for c in json.loads(run.stdout)}
    assert run.returncode == 0, run.stderr
    assert checks["/invert"]["result"] == checks["/invert (job)"]["result"] == "passed"
    assert checks["/invert (job)"]["status"] == 200 and checks["/invert (job)"]["bytes"] > 0


def test_a_webhook_is_signed_per_standard_webhooks_and_retried_after_a_500(tmp_path, monkeypatch):
    """serve with a signing key (MODAL_CDK_WEBHOOK_SECRET) and loopback receivers allowed (a serve-only flag):
    the finished job's status is POSTed to the submit's Webhook-Url; the first answer is a 500, so it comes
    again; the standardwebhooks library (the spec's reference code) verifies the signature of both, and the
    payload holds no secret."""
    import base64
    import http.server
    import threading

    from standardwebhooks import Webhook

    secret = "whsec_" + base64.b64encode(b"modal-cdk test webhook key 32b!!").decode()
    received = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(500 if len(received) == 1 else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    placeholder(tmp_path, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(tmp_path)
    monkeypatch.setenv("MODAL_CDK_WEBHOOK_SECRET", secret)
    serve, api = start_serve(PROJECT, comfy_url, tmp_path, extra=["--allow-private-webhooks"])
    try:
        job = httpx.post(
            f"{api}/invert", json={"width": 8}, headers={**ASYNC, "Webhook-Url": hook_url}, timeout=30
        ).json()
        deadline = time.monotonic() + 30
        while len(received) < 2:
            assert time.monotonic() < deadline, received
            time.sleep(0.1)
        verifier = Webhook(secret)
        payloads = [verifier.verify(body, {k.lower(): v for k, v in headers.items()}) for headers, body in received]
        assert [p["id"] for p in payloads] == [job["id"], job["id"]] and payloads[0]["status"] == "succeeded"
        assert received[0][0]["webhook-id"] == received[1][0]["webhook-id"]  # one message, delivered twice
        assert secret.split("_", 1)[1] not in received[1][1].decode() and "webhook_url" not in payloads[0]
        with pytest.raises(Exception):  # the oracle refuses a tampered body
            verifier.verify(
                received[1][1].replace(b"succeeded", b"failed"), {k.lower(): v for k, v in received[1][0].items()}
            )
    finally:
        serve.send_signal(signal.SIGINT)
        comfy.kill()
        serve.wait(10)
        receiver.shutdown()


def test_a_webhook_url_is_refused_without_a_signing_key_or_to_a_private_address(servers):
    """The shared serve has no signing key: a Webhook-Url is a 422 naming the header, before anything is
    queued. The address rules (the URL-input SSRF rules) refuse loopback, private and metadata addresses."""
    from conftest import load_module

    refused = submit(servers, "/invert", {}, {"Webhook-Url": "https://example.com/hook"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "Webhook-Url"
    webhooks = load_module(PROJECT / "synth.out" / "apps" / "local" / "webhooks.py", "webhooks_tier")
    for url in (
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest",
        "http://example.com/x",
    ):
        assert webhooks.url_problem(url) is not None, url
    assert webhooks.url_problem("https://127.0.0.1/hook", allow_private=True) is None

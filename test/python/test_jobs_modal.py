"""The Modal side of jobs, a thin adapter, with recording fakes of modal.Dict and Function.spawn (nothing
reaches Modal): the front door (create_api with no runner) turns every POST into a job, spawns the GPU
class's run_job with the job's id, path and validated values, and answers 202; the GPU side's run_job
writes its result into the same Dict, which the front door then serves. What only a live Modal can show
(the spawn reaching a container, FunctionCall ids, Dict durability) is not shown here."""

import base64
import json

import pytest
from conftest import MANIFEST, SYNTH_OUT, import_app
from fastapi.testclient import TestClient
from test_request_models import minimal_body

JOB_APPS = [a for a in MANIFEST["apps"] if a["jobs"]]


class FakeDict:
    """modal.Dict's get/put, recorded."""

    def __init__(self):
        self.items, self.calls = {}, []

    def get(self, key, default=None):
        self.calls.append(("get", key))
        return self.items.get(key, default)

    def put(self, key, value):
        self.calls.append(("put", key))
        self.items[key] = value


class FakeCall:
    object_id = "fc-test"


class FakeRunner:
    """The GPU side's runner: answers like execute() does, without ComfyUI."""

    def execute(self, spec, values, accept, job):
        assert accept == "application/json"  # the job keeps the JSON form, both answers come from it
        body = {
            "files": [{"filename": "out_00001_.png", "base64": base64.b64encode(b"\x89PNG-fake").decode()}],
            "texts": [],
        }
        return body, "application/json", {"X-Cost-USD": "0.000100", "X-Prompt-Id": "p-1"}

    def cancel(self, job, give_up_after):
        raise AssertionError("not cancelled in this test")


@pytest.fixture(params=[a["id"] for a in JOB_APPS])
def modal_side(request, monkeypatch):
    entry = next(a for a in JOB_APPS if a["id"] == request.param)
    module = import_app(entry["id"])
    store = FakeDict()
    spawned = []
    monkeypatch.setattr(
        module.modal.Dict,
        "from_name",
        lambda name, create_if_missing=False: store if name == module.JOBS_DICT_NAME and create_if_missing else None,
    )

    class FakeMethod:
        def spawn(self, *args):
            spawned.append(args)
            return FakeCall()

    class FakeCls:
        run_job = FakeMethod()

    monkeypatch.setattr(module, "ComfyUI", lambda: FakeCls())
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / entry["id"]))  # jobs.py and comfy_runtime.py beside it
    return entry, module, store, spawned


def test_the_front_door_spawns_run_job_and_serves_what_it_wrote(modal_side):
    entry, module, store, spawned = modal_side
    endpoint = next(e for e in entry["endpoints"] if e["jobs"])
    front = TestClient(module.create_api(None, module.modal_jobs()))
    body = minimal_body(endpoint)
    submitted = front.post(endpoint["path"], json=body)  # no Prefer needed: the front door only takes jobs
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    assert len(spawned) == 1 and spawned[0][:2] == (job_id, endpoint["path"])
    assert store.items[f"call:{job_id}"]["value"] == "fc-test"
    assert front.get(f"/jobs/{job_id}").json()["status"] == "queued"
    assert front.get(f"/jobs/{job_id}/result").status_code == 409

    # The GPU side: run_job as the spawned call runs it (ComfyUI.run_job), against the same Dict.
    import jobs

    record = jobs.run_job(module.modal_jobs(), FakeRunner(), *spawned[0])
    assert record["status"] == "succeeded" and record["cost_usd"] == "0.000100"
    shown = front.get(f"/jobs/{job_id}").json()
    assert shown["status"] == "succeeded" and shown["cost_usd"] == "0.000100"
    result = front.get(f"/jobs/{job_id}/result")
    assert result.status_code == 200 and result.content == b"\x89PNG-fake"
    assert result.headers["content-type"] == endpoint["contentType"]  # the endpoint's, as the sync answer
    # Every key the adapter wrote is one of the store's five kinds (index: the job list's pages).
    assert {key.split(":")[0] for op, key in store.calls if op == "put"} <= {"job", "active", "call", "result", "index"}
    # The front door lists it, newest first, as GET /jobs/{id} shows it.
    listed = front.get("/jobs").json()
    assert listed["next_cursor"] is None and [j["id"] for j in listed["jobs"]] == [job_id]
    stored = store.items[f"result:{job_id}"]["value"]
    assert base64.b64decode(stored["json"]["files"][0]["base64"]) == b"\x89PNG-fake" and stored["binary"] is True


def test_progress_is_a_snapshot_a_ui_can_draw(monkeypatch):
    """ComfyUI's websocket events as progress over the whole graph: `execution_cached` takes the cached
    nodes out of the count, each `executing` finishes the node before it, a sampler's `progress` adds its
    step of steps inside the running node; `value` goes 0..1 and never back; today's `node`, `step`,
    `steps` and `percent` are kept; other events are not progress."""
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / MANIFEST["apps"][0]["id"]))
    import jobs
    from comfy_prompt import Job

    job = Job()
    job.classes = {
        "1": "CheckpointLoaderSimple",
        "2": "CLIPTextEncode",
        "3": "KSampler",
        "4": "VAEDecode",
        "5": "SaveImage",
    }
    tracker = jobs.ProgressTracker(job)
    assert tracker.event("execution_cached", {"nodes": ["1"]}) is None  # the checkpoint was loaded before
    assert tracker.event("executing", {"node": "2"}) == {
        "value": 0.0,
        "nodes_done": 0,
        "nodes_total": 4,
        "node": "2",
        "node_class": "CLIPTextEncode",
        "step": None,
        "steps": None,
        "percent": None,
    }
    tracker.event("executing", {"node": "3"})
    halfway = tracker.event("progress", {"value": 10, "max": 20, "node": "3"})
    assert halfway == {
        "value": 0.375,  # (1 node done + 10/20) of 4
        "nodes_done": 1,
        "nodes_total": 4,
        "node": "3",
        "node_class": "KSampler",
        "step": 10,
        "steps": 20,
        "percent": 50.0,
    }
    values = [halfway["value"]]
    for event in [
        ("progress", {"value": 20, "max": 20, "node": "3"}),
        ("executing", {"node": "4"}),
        ("executing", {"node": "5"}),
    ]:
        values.append(tracker.event(*event)["value"])
    assert values == sorted(values) and values[-1] == 0.75  # 3 of 4 done while the last runs
    assert tracker.event("executing", {"node": None}) is None  # the prompt ended
    assert tracker.event("status", {}) is None


def test_a_queued_job_shows_its_queue_position(monkeypatch):
    """`queue_position` while queued: 1 + the jobs submitted before it still queued (1: it runs next);
    a running or finished job has none."""
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / MANIFEST["apps"][0]["id"]))
    import jobs

    endpoints = {"/x": {"timeout_seconds": 60}}
    queue = jobs.Jobs(jobs.ExpiringStore(jobs.LockedDict()), lambda *a: None, endpoints, 10, 3600)
    ids = [queue.submit("/x", {"n": n})[1]["id"] for n in range(3)]
    assert [queue.public(queue.record(i))["queue_position"] for i in ids] == [1, 2, 3]
    queue.save({**queue.record(ids[0]), "status": jobs.RUNNING, "started_at": 1.0, "deadline": None})
    shown = [queue.public(queue.record(i)) for i in ids]
    assert "queue_position" not in shown[0] and [s["queue_position"] for s in shown[1:]] == [1, 2]


def test_the_job_list_is_newest_first_filtered_bounded_and_continued_by_a_cursor(monkeypatch):
    """GET /jobs's logic: newest first; status, endpoint and metadata filters; `limit` entries and a
    `next_cursor` that continues without repeats or gaps, across index pages; bad parameters are 422s
    naming them; Job-Metadata is a small string map, refused otherwise by name."""
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / MANIFEST["apps"][0]["id"]))
    import jobs

    monkeypatch.setattr(jobs, "INDEX_PAGE", 4)  # several index pages from a few jobs
    endpoints = {"/a": {"timeout_seconds": 60}, "/b": {"timeout_seconds": 60}}
    queue = jobs.Jobs(jobs.ExpiringStore(jobs.LockedDict()), lambda *a: None, endpoints, 100, 3600)
    ids = []
    for n in range(10):
        status, job = queue.submit("/a" if n % 2 else "/b", {"n": n}, metadata=json.dumps({"user": f"u{n % 3}"}))
        assert status == 202 and job["metadata"] == {"user": f"u{n % 3}"}
        ids.append(job["id"])
    seen, cursor = [], None
    while True:
        status, page = queue.list(limit=3, cursor=cursor)
        assert status == 200 and len(page["jobs"]) <= 3
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]  # newest first, every job once
    assert [j["id"] for j in queue.list(endpoint="/a")[1]["jobs"]] == ids[1::2][::-1]
    assert [j["id"] for j in queue.list(metadata={"user": "u0"})[1]["jobs"]] == [ids[9], ids[6], ids[3], ids[0]]
    queue.finish(queue.record(ids[4]), jobs.FAILED, error={"status": 500, "detail": {"message": "x"}})
    assert [j["id"] for j in queue.list(status="failed")[1]["jobs"]] == [ids[4]]
    for bad, field in [
        ({"limit": 0}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"status": "done"}, "status"),
        ({"cursor": "9.0"}, "cursor"),
    ]:
        status, body = queue.list(**bad)
        assert status == 422 and body["errors"][0]["field"] == field, (bad, body)
    for header in ["[]", '{"a": 1}', "{", '{"' + "k" * 65 + '": "v"}', '{"a": "' + "v" * 300 + '"}']:
        status, body = queue.submit("/a", {}, metadata=header)
        assert status == 422 and body["errors"][0]["field"] == "Job-Metadata", header

"""The Modal side of jobs, a thin adapter, with recording fakes of modal.Dict, modal.Volume and
Function.spawn (nothing reaches Modal): the front door (create_api with no runner) turns every POST into a
job, spawns the GPU class's run_job with the job's id, path and validated values, and answers 202; the GPU
side's run_job writes the job's output files to the results Volume (committed) and only its small record to
the Dict; the front door reloads the Volume when a file it expects is not there yet, and streams it with
Range reads. For a bucket (the team's, through a CloudBucketMount), the outputs' URLs are presigned by the
real boto3, offline. What only a live Modal can show (the spawn reaching a container, a Volume's commit
becoming visible in another container, a bucket mount, a presigned URL answered by a real bucket, Dict
durability) is not shown here."""

import json
import shutil
import urllib.parse
from pathlib import Path

import pytest
from conftest import MANIFEST, SYNTH_OUT, import_app
from fastapi.testclient import TestClient
from test_request_models import minimal_body

JOB_APPS = [a for a in MANIFEST["apps"] if a["jobs"]]
OUTPUT = b"\x89PNG-fake" * 1000  # 10,000 bytes


class FakeDict:
    """modal.Dict's get/put, recorded (in `calls`, shared with the volume's)."""

    def __init__(self, calls):
        self.items, self.calls = {}, calls

    def get(self, key, default=None):
        self.calls.append(("get", key))
        return self.items.get(key, default)

    def put(self, key, value):
        self.calls.append(("put", key))
        self.items[key] = value
        self.history = [*getattr(self, "history", []), (key, json.loads(json.dumps(value, default=str)))]


class FakeVolume:
    """modal.Volume as two containers see it: the GPU side writes under `gpu`, `commit()` publishes that,
    and the front door's mount `front` shows what was published at its last `reload()`."""

    def __init__(self, root, calls):
        self.gpu, self.front, self.published, self.calls = root / "gpu", root / "front", root / "published", calls
        for folder in (self.gpu, self.front, self.published):
            folder.mkdir(parents=True)

    def commit(self):
        self.calls.append(("commit", None))
        shutil.rmtree(self.published)
        shutil.copytree(self.gpu, self.published)

    def reload(self):
        self.calls.append(("reload", None))
        shutil.rmtree(self.front)
        shutil.copytree(self.published, self.front)


class FakeCall:
    object_id = "fc-test"


class FakeRunner:
    """The GPU side's runner: produces files as ComfyRunner.produce does, without ComfyUI."""

    def produce(self, spec, values, job):
        return [("out_00001_.png", OUTPUT)], [], {"X-Cost-USD": "0.000100", "X-Prompt-Id": "p-1"}

    def cancel(self, job, give_up_after):
        raise AssertionError("not cancelled in this test")


@pytest.fixture(params=[a["id"] for a in JOB_APPS])
def modal_side(request, monkeypatch, tmp_path):
    entry = next(a for a in JOB_APPS if a["id"] == request.param)
    module = import_app(entry["id"])
    calls = []
    store = FakeDict(calls)
    spawned = []
    monkeypatch.setattr(
        module.modal.Dict,
        "from_name",
        lambda name, create_if_missing=False: store if name == module.JOBS_DICT_NAME and create_if_missing else None,
    )
    if entry["jobs"]["results"]["kind"] == "volume":
        volume = FakeVolume(tmp_path, calls)
        monkeypatch.setattr(module, "results_volume", volume)
        monkeypatch.setattr(module, "RESULTS_MOUNT", str(volume.front))  # the front door's view, until run_job
    else:
        volume = None
        monkeypatch.setattr(module, "RESULTS_MOUNT", str(tmp_path))  # a bucket: one view, no commit
        for key, value in {
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_REGION": "auto",
        }.items():
            monkeypatch.setenv(key, value)

    class FakeMethod:
        def spawn(self, *args):
            spawned.append(args)
            return FakeCall()

    class FakeCls:
        run_job = FakeMethod()

    monkeypatch.setattr(module, "ComfyUI", lambda: FakeCls())
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / entry["id"]))  # jobs.py and comfy_runtime.py beside it
    return entry, module, store, spawned, volume, calls


def run_on_the_gpu_side(module, volume, spawned, monkeypatch):
    """run_job as the spawned call runs it (ComfyUI.run_job), against the same Dict, in the GPU's view."""
    import job_runner

    if volume is not None:
        front = module.RESULTS_MOUNT
        monkeypatch.setattr(module, "RESULTS_MOUNT", str(volume.gpu))
    record = job_runner.run_job(module.modal_jobs(), FakeRunner(), *spawned[0])
    if volume is not None:
        monkeypatch.setattr(module, "RESULTS_MOUNT", front)
    return record


def test_the_front_door_spawns_run_job_and_serves_the_files_it_wrote(modal_side, monkeypatch):
    entry, module, store, spawned, volume, calls = modal_side
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

    calls.clear()
    record = run_on_the_gpu_side(module, volume, spawned, monkeypatch)
    assert record["status"] == "succeeded" and record["cost_usd"] == "0.000100"
    if volume is not None:
        # The file is committed before the record that lists it is written: a reader never sees an output
        # listed that no reload can show.
        first_listing = next(
            i for i, call in enumerate(calls) if call == ("put", f"job:{job_id}") and i > calls.index(("commit", None))
        )
        assert calls.index(("commit", None)) < first_listing
    # The output went to a file, never into the Dict: only records, marks and index pages are there.
    assert {key.split(":")[0] for op, key in calls if op == "put"} <= {"job", "index"}
    assert not any(
        OUTPUT[:8] in json.dumps(v, default=str).encode() or "UE5HLWZha2" in json.dumps(v) for v in store.items.values()
    )

    shown = front.get(f"/jobs/{job_id}").json()
    assert shown["status"] == "succeeded" and shown["cost_usd"] == "0.000100"
    [output] = shown["outputs"]
    assert (output["name"], output["content_type"], output["size_bytes"]) == (
        "out_00001_.png",
        "image/png",
        len(OUTPUT),
    )
    assert output["url_expires_at"] == shown["expires_at"] or entry["jobs"]["results"]["kind"] == "bucket"
    calls.clear()
    result = front.get(f"/jobs/{job_id}/result")
    assert result.status_code == 200 and result.content == OUTPUT
    assert result.headers["content-type"] == endpoint["contentType"]  # the endpoint's, as the sync answer
    if volume is not None:
        assert ("reload", None) in calls  # the front door had not seen the file: it reloaded once, then found it
    part = front.get(f"/jobs/{job_id}/result", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == OUTPUT[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(OUTPUT)}"
    beyond = front.get(f"/jobs/{job_id}/result", headers={"Range": f"bytes={len(OUTPUT)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(OUTPUT)}"
    as_json = front.get(f"/jobs/{job_id}/result", headers={"Accept": "application/json"}).json()
    assert as_json["files"][0]["filename"] == "out_00001_.png" and as_json["texts"] == []
    import base64

    assert base64.b64decode(as_json["files"][0]["base64"]) == OUTPUT
    if entry["jobs"]["results"]["kind"] == "volume":
        assert output["url"] == f"/jobs/{job_id}/outputs/out_00001_.png"
        assert front.get(output["url"], headers={"Range": "bytes=0-7"}).content == OUTPUT[:8]
    else:
        # A presigned GET of <prefix><job id>/<name> at the bucket's endpoint (signed by boto3, offline).
        url = urllib.parse.urlsplit(output["url"])
        results = entry["jobs"]["results"]
        assert f"{url.scheme}://{url.netloc}".startswith(results["endpointUrl"].rstrip("/"))
        assert url.path == f"/{results['bucket']}/{results['prefix']}{job_id}/out_00001_.png"
        query = urllib.parse.parse_qs(url.query)
        assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLE/") and "X-Amz-Signature" in query
        assert 0 < int(query["X-Amz-Expires"][0]) <= module.JOBS_KEEP_SECONDS
    assert front.get(f"/jobs/{job_id}/outputs/other.png").status_code == 404
    # The front door lists it, newest first, as GET /jobs/{id} shows it.
    listed = front.get("/jobs").json()
    assert listed["next_cursor"] is None and [j["id"] for j in listed["jobs"]] == [job_id]


def test_each_output_is_listed_once_stored_while_the_job_still_runs(modal_side, monkeypatch):
    """A batch of two files: the record lists the first (committed) while the job is still running, then
    both, then the job succeeds: a UI polling GET /jobs/{id} sees each output as soon as it exists."""
    entry, module, store, spawned, volume, calls = modal_side
    endpoint = next(e for e in entry["endpoints"] if e["jobs"])
    front = TestClient(module.create_api(None, module.modal_jobs()))
    job_id = front.post(endpoint["path"], json=minimal_body(endpoint)).json()["id"]
    monkeypatch.setattr(
        FakeRunner,
        "produce",
        lambda self, spec, values, job: ([("a_00001_.png", OUTPUT), ("a_00002_.png", OUTPUT[:99])], [], {}),
    )
    run_on_the_gpu_side(module, volume, spawned, monkeypatch)
    states = [
        (value["value"]["status"], [o["name"] for o in value["value"].get("outputs") or []])
        for key, value in store.history
        if key == f"job:{job_id}"
    ]
    listed = [s for s in states if s[1]]
    assert listed[0] == ("running", ["a_00001_.png"]) and ("running", ["a_00001_.png", "a_00002_.png"]) in listed
    assert listed[-1] == ("succeeded", ["a_00001_.png", "a_00002_.png"])
    shown = front.get(f"/jobs/{job_id}").json()["outputs"]
    assert [(o["name"], o["size_bytes"]) for o in shown] == [("a_00001_.png", len(OUTPUT)), ("a_00002_.png", 99)]


def test_a_result_past_keep_results_is_a_410_and_the_sweep_deletes_its_files(modal_side, monkeypatch):
    entry, module, store, spawned, volume, calls = modal_side
    endpoint = next(e for e in entry["endpoints"] if e["jobs"])
    front = TestClient(module.create_api(None, module.modal_jobs()))
    job_id = front.post(endpoint["path"], json=minimal_body(endpoint)).json()["id"]
    run_on_the_gpu_side(module, volume, spawned, monkeypatch)
    assert front.get(f"/jobs/{job_id}/result").status_code == 200
    import job_results
    import jobs

    later = jobs.time.time() + module.JOBS_KEEP_SECONDS + 1
    monkeypatch.setattr(jobs.time, "time", lambda: later)
    gone = front.get(f"/jobs/{job_id}/result")
    assert gone.status_code == 410 and gone.json()["title"] == "Result expired"
    assert front.get(f"/jobs/{job_id}/outputs/out_00001_.png").status_code == 410
    root = Path(module.RESULTS_MOUNT) if volume is None else volume.gpu
    swept = job_results.ResultFiles(root).sweep(module.JOBS_KEEP_SECONDS, now=later)
    assert swept == [job_id] and not (root / job_id).exists()


def test_progress_is_a_snapshot_a_ui_can_draw(monkeypatch):
    """ComfyUI's websocket events as progress over the whole graph: `execution_cached` takes the cached
    nodes out of the count, each `executing` finishes the node before it, a sampler's `progress` adds its
    step of steps inside the running node; `value` goes 0..1 and never back; today's `node`, `step`,
    `steps` and `percent` are kept; other events are not progress."""
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / MANIFEST["apps"][0]["id"]))
    import job_runner
    from comfy_prompt import Job

    job = Job()
    job.classes = {
        "1": "CheckpointLoaderSimple",
        "2": "CLIPTextEncode",
        "3": "KSampler",
        "4": "VAEDecode",
        "5": "SaveImage",
    }
    tracker = job_runner.ProgressTracker(job)
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
    queue = jobs.Jobs(jobs.ExpiringStore(jobs.LockedDict()), lambda *a: None, endpoints, 10, 3600, None)
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

    import job_list

    monkeypatch.setattr(job_list, "INDEX_PAGE", 4)  # several index pages from a few jobs
    endpoints = {"/a": {"timeout_seconds": 60}, "/b": {"timeout_seconds": 60}}
    queue = jobs.Jobs(jobs.ExpiringStore(jobs.LockedDict()), lambda *a: None, endpoints, 100, 3600, None)
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

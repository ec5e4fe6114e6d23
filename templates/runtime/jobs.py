"""Jobs: an endpoint's work that outlives one web request (docs/jobs.md "Long-running requests and jobs").

`POST <path>` with `Prefer: respond-async` (RFC 7240) answers 202 with the job's id instead of waiting;
`GET /jobs/{id}` gives its status, progress and outputs, `GET /jobs/{id}/result` the synchronous route's
answer, `POST /jobs/{id}/cancel` stops it, `GET /jobs/{id}/events` streams its progress as Server-Sent Events.

Plain Python with no Modal or FastAPI import (the routes are in job_routes.py), so the same code serves on
Modal and locally: what differs is the store
(where records live: a dict in this process, or a modal.Dict), where output files go (job_results.py: a
folder, a Volume or a bucket) and how a job is started (a worker thread, or Function.spawn onto the app's
GPU class). Either way the GPU side runs `run_job`, which writes the job's progress to the store and its
outputs as files; the routes only read them, so polling never wakes a GPU. Cancelling is a mark in the
store: a queued job that has it never runs, a running one is interrupted by its watcher.
"""

import hashlib
import json
import threading
import time
import uuid

from job_list import JobList
from job_states import (  # noqa: F401 - the job's words, re-exported for the app and the tests
    CANCEL_POLL_SECONDS,
    CANCELING,
    CANCELLED,
    DEADLINE_GRACE_SECONDS,
    FAILED,
    FINAL,
    PROGRESS_EVERY_SECONDS,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    field_problem,
    iso_time,
    no_such_job,
    parse_metadata,
    problem,
)

# How long the same Idempotency-Key returns the same job.
IDEMPOTENCY_SECONDS = 24 * 3600
# The longest Idempotency-Key taken (as Stripe's); an empty one would be shared by every client that sends it.
IDEMPOTENCY_KEY_MAX = 255


class ExpiringStore:
    """Job records, each kept for a time, over a mapping with `get(key)` and `put(key, value)`: a modal.Dict
    on Modal (whose own entries expire after 7 days unread), a LockedDict locally. Each key has one writer:
    `job:` records the front door creates and the GPU side updates in turn, `cancel:` marks the front door
    writes. Outputs are never here: they are files (job_results.py), which the records list."""

    def __init__(self, backing):
        self.backing = backing

    def get(self, key):
        item = self.backing.get(key)
        if item is None or item["expires"] < time.time():
            return None
        return item["value"]

    def put(self, key, value, ttl_seconds):
        self.backing.put(key, {"value": value, "expires": time.time() + ttl_seconds})


class LockedDict:
    """A dict for one process's threads, with modal.Dict's get and put."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            return self._items.get(key, default)

    def put(self, key, value):
        with self._lock:
            self._items[key] = value


class Jobs(JobList):
    """The job routes' logic: records in `store`, output files in `results` (job_results.ResultFiles),
    work started by `start(job_id, path, values)`.

    `endpoints`: the app's ENDPOINTS; `max_active`: queued + running jobs past which a submit is a 429;
    `keep_seconds`: how long a finished job's outputs are kept (its record twice as long, so that a result
    asked for after it expired is a 410, not a 404)."""

    def __init__(
        self,
        store,
        start,
        endpoints,
        max_active,
        keep_seconds,
        results,
        prefix="/jobs",
        notify=None,
        allow_private_webhooks=False,
    ):
        """`notify(url, payload)`: sends a finished job's webhook (None: the app has no webhook secret, so a
        submit naming a Webhook-Url is refused). `allow_private_webhooks`: loopback receivers (local tests)."""
        self.store = store
        self.results = results
        self.start = start
        self.notify = notify
        self.allow_private_webhooks = allow_private_webhooks
        self.endpoints = endpoints
        self.max_active = max_active
        self.keep_seconds = keep_seconds
        self.prefix = prefix
        self._lock = threading.Lock()  # one submit at a time: the queue limit and idempotency are exact here

    # -- records ----------------------------------------------------------------------------------

    def record(self, job_id):
        """The job's record, or None; a running job past its deadline is failed here (its container died)."""
        record = self.store.get(f"job:{job_id}")
        if record and record["status"] == RUNNING and record["deadline"] and time.time() > record["deadline"]:
            record = self.finish(
                record,
                FAILED,
                error={
                    "status": 504,
                    "detail": {
                        "message": "the job did not finish within its endpoint's timeout: its container stopped"
                    },
                },
            )
        return record

    def save(self, record):
        self.store.put(f"job:{record['id']}", record, 2 * self.keep_seconds)
        return record

    def finish(self, record, status, error=None, result=None):
        """End a job. `result` (a success): its answer's small part (binary or JSON, content type, headers,
        texts), kept in the record beside the list of its output files."""
        record = {**record, "status": status, "finished_at": time.time()}
        if error is not None:
            record["error"] = error
        if result is not None:
            record["result"] = result
            record["cost_usd"] = result["headers"].get("X-Cost-USD")
            self.results.finished(record["id"], record["finished_at"])
        record = self.save(record)
        if status in FINAL and record.get("webhook_url") and self.notify is not None:
            self.notify(record["webhook_url"], self.public(record))
        return record

    def active(self):
        """The ids of the jobs queued or running (the front door's list, its finished ones dropped)."""
        return [j for j in self.store.get("active") or [] if (r := self.record(j)) and r["status"] not in FINAL]

    def cancel_requested(self, job_id):
        return self.store.get(f"cancel:{job_id}") is not None

    # -- the routes -------------------------------------------------------------------------------

    def submit(self, path, values, idempotency_key=None, webhook_url=None, metadata=None):
        """(HTTP status, body): 202 and the new job; the same job again for a repeated Idempotency-Key with
        the same body (200); 422 for that key with another body, for a Webhook-Url that cannot be used, or
        for Job-Metadata (`metadata`, the header's JSON text) that is not a small string map; 429 past the
        queue limit."""
        from webhooks import url_problem

        metadata, metadata_problem = parse_metadata(metadata)
        if metadata_problem:
            return field_problem("Job-Metadata refused", "Job-Metadata", metadata_problem)
        if idempotency_key is not None and not 0 < len(idempotency_key.strip()) <= IDEMPOTENCY_KEY_MAX:
            said = "empty" if not idempotency_key.strip() else f"{len(idempotency_key)} characters"
            return field_problem(
                "Idempotency-Key refused",
                "Idempotency-Key",
                f"got {said}, expected 1 to {IDEMPOTENCY_KEY_MAX} characters",
                detail=f"Idempotency-Key: got {said}, expected 1 to {IDEMPOTENCY_KEY_MAX} characters unique to this request (e.g. a UUID), or no header",
            )
        digest = hashlib.sha256(json.dumps([path, values], sort_keys=True, default=str).encode()).hexdigest()
        webhook_url = webhook_url or self.endpoints[path].get("webhook_url")
        if webhook_url is not None:
            problem_text = (
                "this app signs no webhooks (no webhook secret: ComfyApp jobs.webhookSecret names the Modal Secret)"
                if self.notify is None
                else url_problem(webhook_url, self.allow_private_webhooks)
            )
            if problem_text:
                return field_problem("Webhook-Url refused", "Webhook-Url", problem_text)
        with self._lock:
            if idempotency_key is not None:
                seen = self.store.get(f"idempotency:{idempotency_key}")
                if seen and seen["digest"] != digest:
                    return field_problem(
                        "Idempotency-Key reused",
                        "Idempotency-Key",
                        "already used with another body",
                        detail=f"the Idempotency-Key {idempotency_key!r} was sent with another request (job {seen['id']}): send a new key for a new request",
                    )
                if seen and (record := self.record(seen["id"])):
                    return 200, self.public(record)
            active = self.active()
            if len(active) >= self.max_active:
                return problem(
                    429,
                    "Too many jobs",
                    f"this app has {len(active)} jobs queued or running, its limit: retry later",
                )
            job_id = uuid.uuid4().hex
            created = time.time()
            record = {
                "id": job_id,
                "endpoint": path,
                "status": QUEUED,
                "created_at": created,
                # Set when it starts: a queued job may wait long behind others (never failed for that).
                "deadline": None,
                "progress": None,
                **({"webhook_url": webhook_url} if webhook_url else {}),
                **({"metadata": metadata} if metadata else {}),
            }
            self.save(record)
            self.store.put("active", [*active, job_id], IDEMPOTENCY_SECONDS)
            self.index(job_id)
            if idempotency_key is not None:
                self.store.put(f"idempotency:{idempotency_key}", {"digest": digest, "id": job_id}, IDEMPOTENCY_SECONDS)
        try:
            self.start(job_id, path, values)
        except Exception as e:  # noqa: BLE001 - the job is failed with why, never stuck queued
            record = self.finish(
                record,
                FAILED,
                error={"status": 503, "detail": {"message": f"could not start the job ({type(e).__name__}: {e})"}},
            )
        return 202, self.public(record)

    def cancel(self, job_id):
        """Mark the job cancelled (queued: it never runs) or cancelling (running: its watcher interrupts it).
        Idempotent: a finished job is left as it is."""
        record = self.record(job_id)
        if record is None:
            return None
        if record["status"] in FINAL:
            return self.public(record)
        # The mark first: the GPU side reads it before it starts the job, and while it runs it.
        self.store.put(f"cancel:{job_id}", True, 2 * self.keep_seconds)
        if record["status"] == QUEUED:
            record = self.finish(record, CANCELLED)
        return self.public({**record, "cancel_requested": True})

    def result(self, job_id):
        """(status, answer or problem): a finished job's synchronous answer, as
        {binary, content_type, headers, texts, files: [(name, path)]} for the routes to stream."""
        record = self.record(job_id)
        if record is None:
            return no_such_job(job_id)
        if record["status"] == FAILED:  # the error the synchronous route would have answered
            return problem(record["error"]["status"], "Job failed", record["error"]["detail"])
        if record["status"] == CANCELLED:
            return problem(409, "Job cancelled", f"job {job_id} was cancelled: it has no result")
        if record["status"] != SUCCEEDED:
            return problem(
                409, "Job not finished", f"job {job_id} is {record['status']}: its result comes once it has succeeded"
            )
        files = []
        for entry in record.get("outputs") or []:
            status, path = self.output(job_id, entry["name"], record)
            if status != 200:
                return status, path
            files.append((entry["name"], path))
        return 200, {**record["result"], "files": files}

    def output(self, job_id, name, record=None):
        """(status, path or problem) of one output file: 404 for a name the job does not list, 410 once
        its result expired, 503 (retry) for a file stored but not yet visible in this container."""
        record = record or self.record(job_id)
        if record is None:
            return no_such_job(job_id)
        listed = [entry["name"] for entry in record.get("outputs") or []]
        if name not in listed:
            return problem(404, "No such output", f"job {job_id} has no output {name!r}; its outputs: {listed}")
        if record.get("finished_at") and time.time() > record["finished_at"] + self.keep_seconds:
            return problem(
                410,
                "Result expired",
                f"the result of job {job_id} was kept {self.keep_seconds} s after it finished, and that has passed",
            )
        path = self.results.path(job_id, name)
        if path is None:
            return problem(
                503,
                "Output not visible yet",
                f"job {job_id}'s output {name!r} is stored but not readable here yet: retry",
            )
        return 200, path

    def public(self, record):
        """A record as GET /jobs/{id} shows it."""
        shown = {k: record.get(k) for k in ("id", "endpoint", "status", "progress")}
        if record["status"] == RUNNING and (record.get("cancel_requested") or self.cancel_requested(record["id"])):
            shown["status"] = CANCELING
            shown["cancel_requested"] = True
        if record["status"] == QUEUED:
            shown["queue_position"] = self.queue_position(record["id"])
        if record.get("metadata"):
            shown["metadata"] = record["metadata"]
        shown["created_at"] = iso_time(record["created_at"])
        timings = {}
        if record.get("started_at"):
            timings["queued_ms"] = round((record["started_at"] - record["created_at"]) * 1000)
        if record.get("finished_at"):
            timings["total_ms"] = round((record["finished_at"] - record["created_at"]) * 1000)
            if record.get("started_at"):
                timings["execution_ms"] = round((record["finished_at"] - record["started_at"]) * 1000)
        shown["timings"] = timings
        if record.get("cost_usd") is not None:
            shown["cost_usd"] = record["cost_usd"]
        if record.get("error"):
            shown["error"] = record["error"]
        expires = None
        if record.get("finished_at") and record["status"] == SUCCEEDED:
            # When the result goes (a read after it is a 410).
            expires = record["finished_at"] + self.keep_seconds
            shown["expires_at"] = iso_time(expires)
        base = f"{self.prefix}/{record['id']}"
        if record.get("outputs"):
            shown["outputs"] = [
                self.shown_output(record["id"], o, f"{base}/outputs/{o['name']}", expires) for o in record["outputs"]
            ]
        shown["urls"] = {
            "self": base,
            "status": base,
            "result": f"{base}/result",
            "cancel": f"{base}/cancel",
            "events": f"{base}/events",
        }
        return shown

    def shown_output(self, job_id, entry, route, expires):
        """One output as GET /jobs/{id} lists it: {name, content_type, size_bytes, url, url_expires_at}."""
        url, url_expires = self.results.link(job_id, entry["name"], route, expires)
        return {**entry, "url": url, "url_expires_at": None if url_expires is None else iso_time(url_expires)}

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
import os
import queue
import threading
import time
import uuid

from comfy_prompt import Job
from request_files import ComfyError, problem_body

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
# A running job whose cancel is in flight, as GET /jobs/{id} shows it (Comfy API v2's name; stored as RUNNING).
CANCELING = "canceling"
FINAL = (SUCCEEDED, FAILED, CANCELLED)
# A running job is declared failed this long after its endpoint's timeout (its container died with it).
DEADLINE_GRACE_SECONDS = 60
# How often a running job writes its progress to the store, and how often its watcher reads the cancel mark.
PROGRESS_EVERY_SECONDS = 0.25
CANCEL_POLL_SECONDS = 0.5
# How long the same Idempotency-Key returns the same job.
IDEMPOTENCY_SECONDS = 24 * 3600
# The longest Idempotency-Key taken (as Stripe's); an empty one would be shared by every client that sends it.
IDEMPOTENCY_KEY_MAX = 255
# Job-Metadata, a submit's small string map (returned with the job, filterable in the list): its bounds.
METADATA_MAX_KEYS, METADATA_MAX_KEY, METADATA_MAX_VALUE, METADATA_MAX_BYTES = 16, 64, 256, 2048
# The list's index: job ids in submit order, in pages of this many (one bounded store value each).
INDEX_PAGE = 1000
# GET /jobs: entries per answer (default, most), and job records one answer reads at most (then a cursor).
LIST_LIMIT, LIST_LIMIT_MAX, LIST_SCAN_MAX = 20, 100, 1000
# How often local serve deletes expired outputs (on Modal: the app's hourly sweep_results function); tests
# shorten it with MODAL_CDK_SWEEP_SECONDS.
SWEEP_EVERY_SECONDS = float(os.environ.get("MODAL_CDK_SWEEP_SECONDS", "60"))


def _iso(seconds):
    millis = round(seconds * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + f".{millis % 1000:03d}Z"


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


class Jobs:
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

    def index(self, job_id):
        """Append a new job to the list's index: pages of INDEX_PAGE ids, the newest page `index:head`."""
        head = self.store.get("index:head") or 0
        page = self.store.get(f"index:{head}") or []
        if len(page) >= INDEX_PAGE:
            head, page = head + 1, []
        self.store.put(f"index:{head}", [*page, job_id], 2 * self.keep_seconds)
        self.store.put("index:head", head, 2 * self.keep_seconds)

    def list(self, status=None, endpoint=None, metadata=None, limit=None, cursor=None):
        """(HTTP status, body) for GET /jobs: `{"jobs": [summaries, newest first], "next_cursor": …}`, each
        summary as GET /jobs/{id} shows the job, filtered by status (as shown: `canceling` too), endpoint
        and metadata (every key: value given). At most `limit` entries and LIST_SCAN_MAX records read per
        answer; `next_cursor` (None at the end) continues where it stopped. 422 naming a bad parameter."""
        limit = LIST_LIMIT if limit in (None, "") else limit
        if not (isinstance(limit, int) or str(limit).isdigit()) or not 1 <= int(limit) <= LIST_LIMIT_MAX:
            return field_problem(
                "Bad list parameter",
                "limit",
                f"expected 1 to {LIST_LIMIT_MAX}",
                detail=f"limit: got {limit!r}, expected a whole number from 1 to {LIST_LIMIT_MAX}",
            )
        limit = int(limit)
        statuses = (QUEUED, RUNNING, CANCELING, *FINAL)
        if status is not None and status not in statuses:
            return field_problem(
                "Bad list parameter",
                "status",
                f"expected one of {', '.join(statuses)}",
                detail=f"status: got {status!r}, expected one of {', '.join(statuses)}",
            )
        head = self.store.get("index:head") or 0
        if cursor:
            page_text, _, at_text = cursor.partition(".")
            if not (page_text.isdigit() and at_text.isdigit()) or int(page_text) > head:
                return field_problem(
                    "Bad list parameter",
                    "cursor",
                    "not a cursor of this list",
                    detail=f"cursor: got {cursor!r}, expected a next_cursor this list gave",
                )
            page_number, at = int(page_text), int(at_text)
        else:
            page_number, at = head, None
        jobs, scanned = [], 0
        while page_number >= 0:
            page = self.store.get(f"index:{page_number}") or []
            position = len(page) if at is None else min(at, len(page))
            for i in range(position - 1, -1, -1):
                if scanned >= LIST_SCAN_MAX or len(jobs) >= limit:
                    return 200, {"jobs": jobs, "next_cursor": f"{page_number}.{i + 1}"}
                scanned += 1
                record = self.record(page[i])
                if record is None:
                    continue  # expired
                shown = self.public(record)
                if status is not None and shown["status"] != status:
                    continue
                if endpoint is not None and shown["endpoint"] != endpoint:
                    continue
                if metadata and any((record.get("metadata") or {}).get(k) != v for k, v in metadata.items()):
                    continue
                jobs.append(shown)
            page_number, at = page_number - 1, None
        return 200, {"jobs": jobs, "next_cursor": None}

    def queue_position(self, job_id):
        """1 + this app's jobs submitted before it and still queued (1: it runs next). On Modal, where
        several containers take jobs at once, an upper bound."""
        active = self.store.get("active") or []
        ahead = active[: active.index(job_id)] if job_id in active else []
        return 1 + sum(1 for j in ahead if (r := self.store.get(f"job:{j}")) and r["status"] == QUEUED)

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
        shown["created_at"] = _iso(record["created_at"])
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
            shown["expires_at"] = _iso(expires)
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
        return {**entry, "url": url, "url_expires_at": None if url_expires is None else _iso(url_expires)}


def problem(status, title, detail, errors=None):
    """(status, body): a job route's refusal in the one error shape (request_files.problem_body); a None
    title is the status's own."""
    return status, problem_body(status, detail, errors=errors, title=title)


def field_problem(title, field, message, detail=None):
    """(422, body): a refusal of one request field, parameter or header, named in `errors`; the detail is
    `<field>: <message>` unless given."""
    return problem(422, title, detail or f"{field}: {message}", errors=[{"field": field, "message": message}])


def parse_metadata(text):
    """(metadata, problem) from a Job-Metadata header: a JSON object of at most METADATA_MAX_KEYS string
    values (keys ≤ METADATA_MAX_KEY characters, values ≤ METADATA_MAX_VALUE, METADATA_MAX_BYTES in all)."""
    if text is None:
        return None, None
    if len(text.encode()) > METADATA_MAX_BYTES:
        return None, f"got {len(text.encode())} bytes, expected at most {METADATA_MAX_BYTES}"
    try:
        value = json.loads(text)
    except ValueError:
        return None, 'expected a JSON object of strings, e.g. {"user": "u-17"}'
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None, 'expected a JSON object of strings, e.g. {"user": "u-17"}'
    if len(value) > METADATA_MAX_KEYS:
        return None, f"got {len(value)} keys, expected at most {METADATA_MAX_KEYS}"
    long = [k for k, v in value.items() if not 0 < len(k) <= METADATA_MAX_KEY or len(v) > METADATA_MAX_VALUE]
    if long:
        return None, f"key {long[0]!r}: keys 1 to {METADATA_MAX_KEY} characters, values at most {METADATA_MAX_VALUE}"
    return value, None


def no_such_job(job_id):
    return problem(404, "No such job", f"no job {job_id!r} (or it expired long ago)")


def run_job(jobs, runner, job_id, path, values):
    """The GPU side of one job: run it as the synchronous route would, with its progress, result or error
    written to the store. Returns the final record."""
    record = jobs.record(job_id)
    if record is None or record["status"] != QUEUED or jobs.cancel_requested(job_id):
        return record  # cancelled while queued (or unknown): never runs
    spec = jobs.endpoints[path]
    started = time.time()
    record = jobs.save(
        {
            **record,
            "status": RUNNING,
            "started_at": started,
            "deadline": started + spec["timeout_seconds"] + DEADLINE_GRACE_SECONDS,
        }
    )
    job = Job()
    state = {"last": 0.0}
    tracker = ProgressTracker(job)

    def on_progress(kind, data):
        # Throttled before any store access: a sampler reports each step, the store may be a network away.
        progress = tracker.event(kind, data)
        now = time.monotonic()
        if progress is None or (kind != "executing" and now - state["last"] < PROGRESS_EVERY_SECONDS):
            return
        state["last"] = now
        current = jobs.store.get(f"job:{job_id}")
        if current and current["status"] == RUNNING:
            jobs.save({**current, "progress": progress})

    job.on_progress = on_progress
    stop = threading.Event()

    def watch_for_cancel():
        while not stop.wait(CANCEL_POLL_SECONDS):
            if jobs.cancel_requested(job_id):
                runner.cancel(job, spec["timeout_seconds"])
                return

    threading.Thread(target=watch_for_cancel, name=f"job-{job_id}-cancel", daemon=True).start()
    try:
        files, texts, headers = runner.produce(spec, values, job)
        # Each output is a file as soon as it is stored, and listed in the record (a UI sees it while the
        # rest are written); the record keeps only the answer's small part.
        outputs = []
        for name, data in files:
            outputs.append(jobs.results.write(job_id, name, data))
            record = jobs.save({**(jobs.record(job_id) or record), "outputs": list(outputs)})
        binary = spec["output"] != "json" and len(files) == 1
        result = {"binary": binary, "content_type": spec["content_type"], "headers": headers, "texts": texts}
        return jobs.finish(jobs.record(job_id) or record, SUCCEEDED, result=result)
    except ComfyError as e:
        current = jobs.record(job_id) or record
        if job.cancelled or jobs.cancel_requested(job_id):
            return jobs.finish(current, CANCELLED)
        return jobs.finish(current, FAILED, error={"status": e.status, "detail": e.detail})
    except Exception as e:  # noqa: BLE001 - a job always ends with a status and a reason
        return jobs.finish(
            jobs.record(job_id) or record,
            FAILED,
            error={"status": 500, "detail": {"message": f"internal error ({type(e).__name__}): see the app's logs"}},
        )
    finally:
        stop.set()


class ProgressTracker:
    """A running job's progress from ComfyUI's websocket events, as a snapshot a UI can draw:
    `value` (0..1 over the whole graph: the nodes done of the nodes to run, plus the running sampler's
    step of steps), `nodes_done`, `nodes_total` (the graph's nodes less those ComfyUI had cached), `node`
    and `node_class` (the node running), `step` and `steps` (its step of steps, or None), and `percent`
    (the running node's own step percentage, as before)."""

    def __init__(self, job):
        self.job = job
        self.cached = set()
        self.done = []
        self.node = None
        self.step = self.steps = None

    def event(self, kind, data):
        """The snapshot after one event (`execution_cached`, `executing`, `progress`), or None for others."""
        if kind == "execution_cached":
            self.cached = {str(n) for n in data.get("nodes") or []}
            return None
        if kind == "executing":
            if data.get("node") is None:
                return None
            if self.node is not None and self.node not in self.done:
                self.done.append(self.node)
            self.node, self.step, self.steps = str(data["node"]), None, None
        elif kind == "progress" and data.get("max"):
            self.node = str(data.get("node") or self.node)
            self.step, self.steps = int(data.get("value", 0)), int(data["max"])
        else:
            return None
        return self.snapshot()

    def snapshot(self):
        total = max(len(set(self.job.classes) - self.cached), len(self.done) + 1)
        within = self.step / self.steps if self.steps else 0.0
        return {
            "value": round(min((len(self.done) + within) / total, 1.0), 4),
            "nodes_done": len(self.done),
            "nodes_total": total,
            "node": self.node,
            "node_class": self.job.classes.get(self.node),
            "step": self.step,
            "steps": self.steps,
            "percent": round(100 * self.step / self.steps, 1) if self.steps else None,
        }


class LocalWorker:
    """Jobs started on this machine (local serve): one worker thread runs them in order, as ComfyUI would."""

    def __init__(self, runner):
        self.runner = runner
        self.jobs = None
        self.queue = queue.Queue()
        threading.Thread(target=self.work, name="jobs-worker", daemon=True).start()

    def start(self, job_id, path, values):
        self.queue.put((job_id, path, values))

    def work(self):
        while True:
            job_id, path, values = self.queue.get()
            try:
                run_job(self.jobs, self.runner, job_id, path, values)
            except Exception as e:  # noqa: BLE001 - the worker keeps serving the queue
                print(f"job {job_id} failed outside its run: {e!r}")


def local_jobs(
    runner, endpoints, max_active, keep_seconds, results_dir, webhook_secret=None, allow_private_webhooks=False
):
    """Jobs for local serve: an in-process store, outputs as files in `results_dir` (expired ones deleted
    every SWEEP_EVERY_SECONDS), a worker thread; webhooks from a thread each."""
    from job_results import ResultFiles
    from webhooks import deliver

    def notify(url, payload):
        threading.Thread(
            target=deliver, args=(url, payload, webhook_secret, allow_private_webhooks), daemon=True
        ).start()

    worker = LocalWorker(runner)
    results = ResultFiles(results_dir)

    def sweep():
        while True:
            time.sleep(SWEEP_EVERY_SECONDS)
            results.sweep(keep_seconds)

    threading.Thread(target=sweep, name="results-sweep", daemon=True).start()
    worker.jobs = Jobs(
        ExpiringStore(LockedDict()),
        worker.start,
        endpoints,
        max_active,
        keep_seconds,
        results,
        notify=notify if webhook_secret else None,
        allow_private_webhooks=allow_private_webhooks,
    )
    return worker.jobs

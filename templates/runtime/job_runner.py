"""The GPU side of jobs: `run_job` runs one job as the synchronous route would, writing its progress to the
job store and its outputs as files (job_results.py); `ProgressTracker` turns ComfyUI's websocket events into
the progress a UI draws. Locally (`modal-cdk serve`), `local_jobs` runs them on a worker thread. On Modal the
app's GPU class runs `run_job` for each job the front door spawns.
"""

import os
import queue
import threading
import time

from comfy_prompt import Job
from job_states import (
    CANCEL_POLL_SECONDS,
    CANCELLED,
    DEADLINE_GRACE_SECONDS,
    FAILED,
    PROGRESS_EVERY_SECONDS,
    QUEUED,
    RUNNING,
    SUCCEEDED,
)
from jobs import ExpiringStore, Jobs, LockedDict
from request_files import ComfyError

# How often local serve deletes expired outputs (on Modal: the app's hourly sweep_results function); tests
# shorten it with MODAL_CDK_SWEEP_SECONDS.
SWEEP_EVERY_SECONDS = float(os.environ.get("MODAL_CDK_SWEEP_SECONDS", "60"))


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

"""The words of jobs, shared by their logic (jobs.py), list (job_list.py), GPU side (job_runner.py) and
routes (job_routes.py): a job's statuses, its timings, and the refusals the job routes answer (a bad
Job-Metadata header among them)."""

import json
import time

from request_files import problem_body

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
# A running job whose cancel is in flight, as GET /jobs/{id} shows it (Comfy API v2's name; stored as RUNNING).
CANCELING = "canceling"
FINAL = (SUCCEEDED, FAILED, CANCELLED)
# A running job is declared failed this long after its endpoint's timeout (its container died with it).
DEADLINE_GRACE_SECONDS = 60
# How often a running job writes its progress to the store, and how often its watcher reads the cancel mark.
PROGRESS_EVERY_SECONDS = 0.25
CANCEL_POLL_SECONDS = 0.5
# Job-Metadata, a submit's small string map (returned with the job, filterable in the list): its bounds.
METADATA_MAX_KEYS, METADATA_MAX_KEY, METADATA_MAX_VALUE, METADATA_MAX_BYTES = 16, 64, 256, 2048


def iso_time(seconds):
    """A time (seconds since the epoch) as ISO 8601 in UTC with milliseconds (…T18:02:13.000Z)."""
    millis = round(seconds * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + f".{millis % 1000:03d}Z"


def problem(status, title, detail, errors=None):
    """(status, body): a job route's refusal in the one error shape (request_files.problem_body); a None
    title is the status's own."""
    return status, problem_body(status, detail, errors=errors, title=title)


def field_problem(title, field, message, detail=None):
    """(422, body): a refusal of one request field, parameter or header, named in `errors`; the detail is
    `<field>: <message>` unless given."""
    return problem(422, title, detail or f"{field}: {message}", errors=[{"field": field, "message": message}])


def no_such_job(job_id):
    return problem(404, "No such job", f"no job {job_id!r} (or it expired long ago)")


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

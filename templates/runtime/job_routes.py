"""The HTTP side of jobs (jobs.py holds their logic): the routes `GET /jobs`, `GET /jobs/{id}`, `GET /jobs/{id}/result`,
`GET /jobs/{id}/outputs/{name}`, `POST /jobs/{id}/cancel` and `GET /jobs/{id}/events` on an app's FastAPI, and
the 202 a `POST <path>` with `Prefer: respond-async` gets. Imported by app.py's create_api, on the GPU side and
on the job front door. Results are streamed from their files (job_results.py), with Range reads: memory stays
bounded whatever their size.
"""

import asyncio
import hashlib
import json

from job_results import content_type_of, json_chunks
from job_states import FINAL, PROGRESS_EVERY_SECONDS, no_such_job
from request_files import PROBLEM_JSON

# A comment line at least this often on a job's event stream, so that no proxy closes it as idle.
HEARTBEAT_SECONDS = 10
# What an EventSource waits before it reconnects (the stream's `retry:`).
RECONNECT_MILLISECONDS = 2000


def add_job_routes(api, jobs, problem_schema=None):
    """GET /jobs/{id}, GET /jobs/{id}/result, POST /jobs/{id}/cancel and GET /jobs/{id}/events on `api`;
    `problem_schema` (the one error shape) documents their answers in /openapi.json."""
    from fastapi import Request
    from fastapi.responses import (
        FileResponse,
        JSONResponse,
        Response,
        StreamingResponse,
    )

    # Their answers in /openapi.json, only where it is served (ComfyApp apiDocs passes the error shape).
    docs = (
        job_docs(problem_schema, sorted({e["content_type"] for e in jobs.endpoints.values()})) if problem_schema else {}
    )

    def refused(status, body):
        """A job route's problem answer; a 503 (an output not visible here yet) says when to retry."""
        headers = {"Retry-After": "1"} if status == 503 else {}
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)

    def not_found(job_id):
        return refused(*no_such_job(job_id))

    @api.get(jobs.prefix, response_class=Response, responses=docs.get("list"))
    def job_list(request: Request):
        """The app's jobs, newest first: ?status=&endpoint=&limit=&cursor= and metadata.<key>=<value>."""
        query = request.query_params
        metadata = {k[len("metadata.") :]: v for k, v in query.items() if k.startswith("metadata.")}
        status, body = jobs.list(
            query.get("status"), query.get("endpoint"), metadata, query.get("limit"), query.get("cursor")
        )
        return JSONResponse(body, status_code=status, media_type=None if status == 200 else PROBLEM_JSON)

    @api.get(f"{jobs.prefix}/{{job_id}}", response_class=Response, responses=docs.get("status"))
    def job_status(job_id: str):
        record = jobs.record(job_id)
        return not_found(job_id) if record is None else JSONResponse(jobs.public(record))

    @api.get(f"{jobs.prefix}/{{job_id}}/result", response_class=Response, responses=docs.get("result"))
    def job_result(job_id: str, request: Request):
        """The synchronous route's answer, streamed from the output files: the one file's bytes (Range
        reads answered 206, or 416), or the JSON form (several files, a json endpoint, or asked for)."""
        status, answer = jobs.result(job_id)
        if status != 200:
            return refused(status, answer)
        if not answer["binary"] or "application/json" in request.headers.get("accept", ""):
            stream = json_chunks(answer["files"], answer["texts"])
            return StreamingResponse(stream, media_type="application/json", headers=answer["headers"])
        return FileResponse(answer["files"][0][1], media_type=answer["content_type"], headers=answer["headers"])

    @api.get(f"{jobs.prefix}/{{job_id}}/outputs/{{name}}", response_class=Response, responses=docs.get("output"))
    def job_output(job_id: str, name: str):
        """One output file as GET /jobs/{id} lists it, as it was stored (Range reads answered 206, or 416)."""
        status, path = jobs.output(job_id, name)
        if status != 200:
            return refused(status, path)
        return FileResponse(path, media_type=content_type_of(name), headers={"Cache-Control": "private, max-age=3600"})

    @api.post(f"{jobs.prefix}/{{job_id}}/cancel", response_class=Response, responses=docs.get("cancel"))
    def job_cancel(job_id: str):
        shown = jobs.cancel(job_id)
        return not_found(job_id) if shown is None else JSONResponse(shown)

    @api.get(f"{jobs.prefix}/{{job_id}}/events", response_class=Response, responses=docs.get("events"))
    async def job_events(job_id: str):
        if jobs.record(job_id) is None:
            return not_found(job_id)
        # Each event's id names the state it carries. A client that reconnects (EventSource sends
        # Last-Event-ID) gets the current state first whatever it saw: no state is ever skipped.
        return StreamingResponse(
            job_event_stream(jobs, job_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


async def job_event_stream(jobs, job_id, heartbeat_seconds=None):
    """The server-sent events of one job: its state now, then each change (`progress`, then the final
    status as the event name), each with an `id:`; a `: keep-alive` comment when nothing was sent for
    HEARTBEAT_SECONDS, so that proxies keep the connection; it ends after the final state."""
    heartbeat = HEARTBEAT_SECONDS if heartbeat_seconds is None else heartbeat_seconds
    loop = asyncio.get_running_loop()
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    sent, last = None, loop.time()
    while True:
        record = await asyncio.to_thread(jobs.record, job_id)
        if record is None:
            return
        shown = jobs.public(record)
        now = json.dumps({k: shown[k] for k in ("status", "progress")}, sort_keys=True)
        if now != sent:
            sent, last = now, loop.time()
            kind = record["status"] if record["status"] in FINAL else "progress"
            event_id = hashlib.sha256(now.encode()).hexdigest()[:16]
            yield f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(shown)}\n\n"
        elif loop.time() - last >= heartbeat:
            last = loop.time()
            yield ": keep-alive\n\n"
        if record["status"] in FINAL:
            return
        await asyncio.sleep(PROGRESS_EVERY_SECONDS)


def submit_response(jobs, path, values, request):
    """The answer to `POST <path>` with `Prefer: respond-async`: 202 with Location, or the problem."""
    from fastapi.responses import JSONResponse

    headers = request.headers
    status, body = jobs.submit(
        path, values, headers.get("idempotency-key"), headers.get("webhook-url"), headers.get("job-metadata")
    )
    if status in (200, 202):
        headers = {"Location": body["urls"]["status"], "Preference-Applied": "respond-async"}
        return JSONResponse(body, status_code=202, headers=headers)
    headers = {"Retry-After": "10"} if status == 429 else {}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def prefers_async(request):
    """Whether the request asks for an asynchronous answer (RFC 7240 `Prefer: respond-async`)."""
    prefer = (
        ",".join(request.headers.getlist("prefer"))
        if hasattr(request.headers, "getlist")
        else request.headers.get("prefer", "")
    )
    return any(p.strip().split(";")[0].strip().lower() == "respond-async" for p in prefer.split(","))


# -- what each route answers, for /openapi.json (ComfyApp apiDocs) ---------------------------------------
# Every status a route can give is listed with its content type, so a client generator, or a conformance
# tool such as schemathesis, meets no answer the document does not name.

WHY = {
    404: "No such job (or it expired long ago)",
    408: "The request body did not arrive in time",
    409: "The job has no result: it is queued, running or was cancelled",
    410: "The job's result was kept its time and has expired",
    413: "The request body, or a file in it, is over its cap",
    422: "A request field (or header) is invalid, or ComfyUI refused the workflow",
    429: "Too many jobs queued or running: retry after Retry-After seconds",
    500: "A node failed while the workflow ran",
    503: "ComfyUI is not running, a model file is missing, or a job's output is not readable here yet (retry)",
    504: "The workflow ran past the endpoint's time limit",
}
BINARY = {"type": "string", "format": "binary"}
FILES_SCHEMA = {
    "type": "object",
    "required": ["files", "texts"],
    "properties": {
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["filename", "base64"],
                "properties": {"filename": {"type": "string"}, "base64": {"type": "string"}},
            },
        },
        "texts": {"type": "array"},
    },
}
JOB_SCHEMA = {
    "type": "object",
    "required": ["id", "endpoint", "status", "created_at", "urls"],
    "properties": {
        "id": {"type": "string"},
        "endpoint": {"type": "string"},
        "status": {"enum": ["queued", "running", "canceling", "succeeded", "failed", "cancelled"]},
        "created_at": {"type": "string"},
        "urls": {"type": "object"},
    },
}
JOB_HEADERS = [
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "enum": ["respond-async"]},
        "description": "respond-async: answer 202 with a job instead of waiting for the result",
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": "The same key with the same body returns the same job for 24 h",
    },
    {
        "name": "Webhook-Url",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "format": "uri"},
        "description": "A public https URL the job's final status is POSTed to, signed (Standard Webhooks)",
    },
    {
        "name": "Job-Metadata",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 2048},
        "description": 'A JSON object of at most 16 strings (e.g. {"user": "u-17"}), returned with the job and filterable in GET /jobs',
    },
]


SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "id": {"type": "string"},
        "data": {"type": "string", "description": "The job as GET /jobs/{id} shows it, as JSON"},
        "retry": {"type": "integer"},
    },
}

# A Range header the file cannot answer (Starlette's FileResponse: an empty text/plain body).
RANGE_REFUSALS = {
    "400": {"description": "A malformed Range header", "content": {"text/plain": {"schema": {"type": "string"}}}},
    "416": {
        "description": "The Range asked for is not within the file (Content-Range: bytes */<size>)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
}

HEALTH_DOCS = {
    "200": {"description": "ComfyUI answers", "content": {"application/json": {"schema": {"type": "object"}}}},
    "503": {
        "description": "ComfyUI has exited, refused the connection or does not answer",
        "content": {"application/json": {"schema": {"type": "object", "required": ["status", "message"]}}},
    },
}


def problems(problem_schema, *statuses):
    """The OpenAPI responses of error statuses: each application/problem+json of the one error shape."""
    content = {"application/problem+json": {"schema": problem_schema}}
    return {str(s): {"description": WHY[s], "content": content} for s in statuses}


def output_content(content_type):
    """An endpoint's result: its file's media type, or JSON (`Accept: application/json`, several files)."""
    shown = {} if content_type == "application/json" else {content_type: {"schema": BINARY}}
    return {**shown, "application/json": {"schema": FILES_SCHEMA}}


def endpoint_docs(problem_schema, endpoint, with_jobs):
    """`responses` and `openapi_extra` of an endpoint's POST route."""
    responses = {"200": {"description": "The workflow's output", "content": output_content(endpoint["content_type"])}}
    statuses = [408, 413, 422, 500, 503, 504]
    if with_jobs and endpoint.get("jobs", False):
        responses["202"] = {
            "description": "The job (Prefer: respond-async), at its Location",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": JOB_SCHEMA}},
        }
        statuses.append(429)
    responses.update(problems(problem_schema, *sorted(statuses)))
    extra = {"parameters": JOB_HEADERS} if with_jobs and endpoint.get("jobs", False) else {}
    return {"responses": responses, "openapi_extra": extra}


def job_docs(problem_schema, content_types):
    """`responses` of each job route (status, result, cancel, events), by route name."""
    job = {"200": {"description": "The job", "content": {"application/json": {"schema": JOB_SCHEMA}}}}
    result = {"description": "The result, as the synchronous route answers it", "content": {}}
    for content_type in content_types:
        result["content"].update(output_content(content_type))
    listed = {
        "type": "object",
        "required": ["jobs", "next_cursor"],
        "properties": {"jobs": {"type": "array", "items": JOB_SCHEMA}, "next_cursor": {"type": ["string", "null"]}},
    }
    return {
        "list": {
            "200": {"description": "The jobs, newest first", "content": {"application/json": {"schema": listed}}},
            **problems(problem_schema, 422),
        },
        "status": {**job, **problems(problem_schema, 404)},
        "cancel": {**job, **problems(problem_schema, 404)},
        "result": {
            "200": result,
            "206": {**result, "description": "The Range asked for (a binary result)"},
            **problems(problem_schema, 404, 409, 410, 413, 422, 500, 503, 504),
            **RANGE_REFUSALS,
        },
        "output": {
            "200": {"description": "The output file", "content": {"application/octet-stream": {"schema": BINARY}}},
            "206": {"description": "The Range asked for", "content": {"application/octet-stream": {"schema": BINARY}}},
            **problems(problem_schema, 404, 410, 503),
            **RANGE_REFUSALS,
        },
        "events": {
            "200": {
                "description": "Server-sent events",
                # Each event (as a client parses it: its event name, id and data lines), not the stream's text.
                "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
            },
            **problems(problem_schema, 404),
        },
    }

"""The HTTP side of jobs (jobs.py holds their logic): the routes `GET /jobs/{id}`, `GET /jobs/{id}/result`,
`POST /jobs/{id}/cancel` and `GET /jobs/{id}/events` on an app's FastAPI, and the 202 a `POST <path>` with
`Prefer: respond-async` gets. Imported by app.py's create_api, on the GPU side and on the job front door.
"""

import asyncio
import base64
import json

from jobs import FINAL, PROGRESS_EVERY_SECONDS, no_such_job
from request_files import PROBLEM_JSON


def add_job_routes(api, jobs):
    """GET /jobs/{id}, GET /jobs/{id}/result, POST /jobs/{id}/cancel and GET /jobs/{id}/events on `api`."""
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse

    def not_found(job_id):
        status, body = no_such_job(job_id)
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)

    @api.get(f"{jobs.prefix}/{{job_id}}")
    def job_status(job_id: str):
        record = jobs.record(job_id)
        return not_found(job_id) if record is None else JSONResponse(jobs.public(record))

    @api.get(f"{jobs.prefix}/{{job_id}}/result")
    def job_result(job_id: str, request: Request):
        status, answer = jobs.result(job_id)
        if status != 200:
            return JSONResponse(answer, status_code=status, media_type=PROBLEM_JSON)
        if not answer["binary"] or "application/json" in request.headers.get("accept", ""):
            return JSONResponse(answer["json"], headers=answer["headers"])
        body = base64.b64decode(answer["json"]["files"][0]["base64"])
        return Response(content=body, media_type=answer["content_type"], headers=answer["headers"])

    @api.post(f"{jobs.prefix}/{{job_id}}/cancel")
    def job_cancel(job_id: str):
        shown = jobs.cancel(job_id)
        return not_found(job_id) if shown is None else JSONResponse(shown)

    @api.get(f"{jobs.prefix}/{{job_id}}/events")
    async def job_events(job_id: str):
        if jobs.record(job_id) is None:
            return not_found(job_id)

        async def stream():
            sent = None
            while True:
                record = await asyncio.to_thread(jobs.record, job_id)
                if record is None:
                    return
                shown = jobs.public(record)
                now = json.dumps({k: shown[k] for k in ("status", "progress")}, sort_keys=True)
                if now != sent:
                    sent = now
                    kind = record["status"] if record["status"] in FINAL else "progress"
                    yield f"event: {kind}\ndata: {json.dumps(shown)}\n\n"
                if record["status"] in FINAL:
                    return
                await asyncio.sleep(PROGRESS_EVERY_SECONDS)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def submit_response(jobs, path, values, request):
    """The answer to `POST <path>` with `Prefer: respond-async`: 202 with Location, or the problem."""
    from fastapi.responses import JSONResponse

    status, body = jobs.submit(path, values, request.headers.get("idempotency-key"), request.headers.get("webhook-url"))
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

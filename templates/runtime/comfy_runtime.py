"""ComfyUI glue for modal-cdk apps: start ComfyUI, run an endpoint's workflow with a request bound into it,
and answer with its output. Copied unchanged into every synthesized app (synth.out/apps/<id>/).

Plain Python with no Modal import, so the same code serves on Modal and locally. In layers, each its own
file beside this one: the ComfyUI process and its health (comfy_process.py), binding a request
(request_binding.py; the checks of request files in request_files.py), running a prompt (comfy_prompt.py),
the answer's bytes (response_files.py); here the runner that composes them. Jobs (jobs.py) use the
runner's interface; the runner knows nothing of jobs. Local serve is local_serve.py.
"""

import http.client
import sys
import threading
import time
import urllib.error
import uuid
from pathlib import Path

from comfy_process import (  # noqa: F401
    COMFY_CALL_TIMEOUT_SECONDS,
    HEALTH_TIMEOUT_SECONDS,
    LOG_TAIL_LINES,
    ComfyProcess,
)
from comfy_prompt import CLIENT_CLOSED_REQUEST, Job, PromptRunner, node_errors_detail  # noqa: F401
from request_binding import (  # noqa: F401
    SEED_MAX,
    FormatValues,
    RequestBinder,
    json_text,
    request_values,
)

# Re-exported for the app and tests: the request-file checks (request_files.py) and the answer's bytes.
from request_files import (  # noqa: F401
    DATA_URL_EXTENSIONS,
    ComfyError,
    UrlPolicy,
    check_media,
    decode_inline_file,
    is_public_address,
    scrub_paths,
)
from response_files import converted_files, encode_files, encode_output  # noqa: F401

# How often a waiting request checks whether its client went away.
DISCONNECT_POLL_SECONDS = 0.25


class ComfyRunner(ComfyProcess, RequestBinder, PromptRunner):
    """One ComfyUI server and the endpoints that run workflows on it: its process and health
    (comfy_process.py), binding a request (request_binding.py), running a prompt (comfy_prompt.py), and
    here the whole of one request, from values to an answer (outputs: response_files.py)."""

    def __init__(
        self,
        comfy_dir,
        port,
        workflows_dir,
        usd_per_second=None,
        url=None,
        extra_args=(),
        reload_volumes=None,
        url_policy=None,
        on_comfyui_exit=None,
        api_key_env=None,
    ):
        """`url`: use an already-running ComfyUI instead of starting one. `comfy_dir`: its directory (input
        files are saved into its input/, outputs deleted from its output/); None when it is elsewhere.
        `extra_args`: ComfyUI flags. `reload_volumes`: called before model files are looked up.
        `url_policy`: how https inputs are fetched (default: UrlPolicy(), public addresses only).
        `on_comfyui_exit`: called once when the ComfyUI this runner started has exited (on Modal: stop
        taking inputs, so the container is replaced); see watch(). `api_key_env`: the environment variable with
        the Comfy.org API key partner-API nodes need (ComfyApp partnerNodes), sent with each prompt as
        `extra_data.api_key_comfy_org` (ComfyUI hands it to those nodes only); never logged or returned."""
        self.comfy_dir = Path(comfy_dir) if comfy_dir is not None else None
        self.port = port
        self.extra_args = list(extra_args)
        self.reload_volumes = reload_volumes
        self.url_policy = url_policy or UrlPolicy()
        self.url = (url or f"http://127.0.0.1:{port}").rstrip("/")
        self.workflows_dir = Path(workflows_dir)
        self.usd_per_second = usd_per_second
        self.process = None
        self.log_path = None
        self._exit_logged = False
        self.on_comfyui_exit = on_comfyui_exit
        self.api_key_env = api_key_env
        self._exit_once = threading.Lock()  # held once ComfyUI's exit was handled (comfyui_exited)
        self._watcher = None
        self._workflows = {}
        self.job_cancel_route = None  # whether ComfyUI has POST /api/jobs/{id}/cancel (None: not asked yet)

    def warm_up(self, steps, endpoints):
        """Run each warm-up step (ComfyApp warmup: an endpoint and small request values) once, so its
        loaders' outputs are cached and its models loaded before the first request. A step that fails
        raises: the container must not take requests (its error names the endpoint and the node)."""
        for step in steps:
            started = time.monotonic()
            try:
                self.execute(endpoints[step["path"]], step["values"], "application/json")
            except ComfyError as e:
                said = e.detail.get("message", e.detail) if isinstance(e.detail, dict) else e.detail
                nodes = e.detail.get("node_errors") if isinstance(e.detail, dict) else None
                raise RuntimeError(
                    f"warm-up of {step['path']} failed ({e.status}): {said}{f' {nodes}' if nodes else ''} — "
                    "this container takes no requests; fix the endpoint, or leave it out of ComfyApp warmup"
                ) from e
            print(f"warm-up: {step['path']} ready in {time.monotonic() - started:.1f} s", file=sys.stderr)

    async def handle(self, spec, values, request):
        """Run an endpoint (its ENDPOINTS entry) for a validated request; returns a FastAPI response. The
        work runs on a thread while this watches the client: one that disconnects cancels its prompt."""
        import asyncio

        job = Job()
        accept = request.headers.get("accept", "")
        work = asyncio.ensure_future(asyncio.to_thread(self.run, spec, values, accept, job))
        while not (await asyncio.wait({work}, timeout=DISCONNECT_POLL_SECONDS))[0]:
            if await request.is_disconnected():
                # On a thread of its own: a hung ComfyUI must not hold up the event loop (and /health).
                threading.Thread(target=self.cancel, args=(job, spec["timeout_seconds"]), daemon=True).start()
                break
        return await work

    def run(self, spec, values, accept="", job=None):
        """`handle` without the client watch: returns a FastAPI response, raises HTTPException.
        `accept`: the request's Accept header; `application/json` answers base64 JSON instead of bytes."""
        from fastapi import HTTPException
        from fastapi.responses import JSONResponse, Response

        try:
            body, media_type, headers = self.execute(spec, values, accept, job)
        except ComfyError as e:
            # ComfyUI's messages name files by absolute path: keep only the names. A refusal of a request
            # field is ours and quotes what the request sent, which is left as sent.
            detail = e.detail if "field" in e.detail else scrub_paths(e.detail)
            raise HTTPException(status_code=e.status, detail=detail) from e
        if media_type == "application/json":
            return JSONResponse(body, headers=headers)
        return Response(content=body, media_type=media_type, headers=headers)

    def execute(self, spec, values, accept="", job=None):
        """Bind, check model files, queue, wait and collect; returns (body, media type, headers)."""
        files, texts, headers = self.produce(spec, values, job)
        # Several files (a batch) cannot be one binary answer: they come as JSON, as when asked for.
        as_json = "application/json" in accept or len(files) > 1
        body, media_type = encode_files(files, texts, spec["output"], spec["content_type"], as_json)
        return body, media_type, headers

    def produce(self, spec, values, job=None):
        """`execute` up to the answer's encoding: (files, texts, headers), each file (name, bytes) as the
        endpoint answers it (its format, no embedded graph). Jobs store these as files (job_results.py)."""
        started = time.monotonic()
        request_id = uuid.uuid4().hex
        job = job or Job()
        job.request_id = request_id
        job.deadline = started + spec["timeout_seconds"]
        self.check_alive()
        inputs = []
        outputs = {"files": [], "texts": [], "paths": []}
        try:
            graph, seed, _ = self.bind(spec, values, request_id, inputs, job)
            job.classes = {node_id: node["class_type"] for node_id, node in graph.items()}
            self.check_model_files(spec, values, graph)
            prompt_id = self.queue_and_wait(graph, request_id, max(job.deadline - time.monotonic(), 0.1), job)
            outputs = self.collect(prompt_id, spec["output_node"], job.outputs.get(spec["output_node"]))
        except TimeoutError as e:  # an HTTP call to ComfyUI (urllib's read timeout) ran out: it hangs
            self.check_alive()
            raise ComfyError(
                504, {"message": f"ComfyUI did not answer within {COMFY_CALL_TIMEOUT_SECONDS} s: it may be hung"}
            ) from e
        except (ConnectionError, urllib.error.URLError, http.client.HTTPException) as e:
            self.check_alive()
            raise ComfyError(503, {"message": f"ComfyUI did not answer ({type(e).__name__})"}) from e
        finally:
            for path in [*inputs, *outputs.get("paths", [])]:
                path.unlink(missing_ok=True)
        files = converted_files(outputs, spec["output"], spec.get("keep_metadata", False))
        elapsed = time.monotonic() - started
        headers = {"X-Execution-Time-Ms": str(round(elapsed * 1000)), "X-Prompt-Id": prompt_id}
        if self.usd_per_second is not None:
            headers["X-Cost-USD"] = f"{elapsed * self.usd_per_second:.6f}"
        if seed is not None:
            headers["X-Seed"] = str(seed)
        return files, outputs["texts"], headers

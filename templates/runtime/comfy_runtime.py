"""ComfyUI glue for modal-cdk apps: start ComfyUI, run an endpoint's workflow with a request bound into it,
and answer with its output. Copied unchanged into every synthesized app (synth.out/apps/<id>/).

Plain Python with no Modal import, so the same code serves on Modal and locally. Its sections: server
lifecycle, one request, outputs, local serve; the checks of request files (inline and https URLs,
decode checks, size caps) are in request_files.py beside it.
"""

import copy
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

# The request-file checks ship beside this file (request_files.py); re-exported for the app and tests.
from request_files import (  # noqa: F401
    DATA_URL_EXTENSIONS,
    ComfyError,
    UrlPolicy,
    check_media,
    decode_inline_file,
    is_public_address,
    scrub_paths,
)
from response_files import encode_output

SEED_MAX = 0xFFFFFFFFFFFFFFFF
LOG_TAIL_LINES = 40
# How long /health waits for ComfyUI's /system_stats before calling it hung.
HEALTH_TIMEOUT_SECONDS = 3
# Each call to ComfyUI's HTTP API (queue, history, models) waits at most this long: a hung ComfyUI is a 503.
COMFY_CALL_TIMEOUT_SECONDS = 30
# Local serve: a connection must send its request's headers within this many seconds (overridable for tests).
HEADER_TIMEOUT_SECONDS = float(os.environ.get("MODAL_CDK_HEADER_TIMEOUT_SECONDS", "10"))
# How often a waiting request checks whether its client went away.
DISCONNECT_POLL_SECONDS = 0.25
# Status for a request whose client disconnected (nginx's convention; nobody receives it).
CLIENT_CLOSED_REQUEST = 499


class Job:
    """One request's prompt, so that a client disconnect can cancel it from another thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.prompt_id = None
        self.ws = None
        self.cancelled = False
        self.request_id = None  # its files carry it: mcdk_<request id>_…
        # When the request's time is up (time.monotonic()): URL inputs are fetched within it.
        self.deadline = None
        # node id → its UI output, from the websocket's `executed` events (saves asking /history).
        self.outputs = {}
        # Called with (event type, data) for the prompt's `executing` and `progress` events (jobs.run_job).
        self.on_progress = None


class ComfyRunner:
    """One ComfyUI server and the endpoints that run workflows on it."""

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

    # -- server lifecycle -------------------------------------------------------------------------

    def start(self, timeout, hide_gpu=False):
        """Start ComfyUI on loopback (unless a url was given) and wait until it answers. `hide_gpu`: start it
        for a memory snapshot, CUDA untouched (the modal_cdk_snapshot extension); attach_gpu() after restore."""
        if self.process is None and self.url == f"http://127.0.0.1:{self.port}":
            self.log_path = Path(f"/tmp/comfyui-{self.port}.log")
            # torch then asks NVML, not CUDA, whether a GPU is there, so even that question leaves CUDA alone.
            hidden = {"MODAL_CDK_GPU_HIDDEN": "1", "PYTORCH_NVML_BASED_CUDA_CHECK": "1"} if hide_gpu else {}
            with open(self.log_path, "wb") as log:  # the child keeps its own copy of the handle
                self.process = subprocess.Popen(
                    [sys.executable, "main.py", "--listen", "127.0.0.1", "--port", str(self.port), *self.extra_args],
                    cwd=self.comfy_dir,
                    env={**os.environ, **hidden},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self._get("/system_stats", timeout=5)
                self.watch()
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        raise RuntimeError(f"ComfyUI did not answer within {timeout} s:\n{self.log_tail()}")

    def watch(self, every_seconds=1.0):
        """Watch the ComfyUI process this runner owns, on a daemon thread: once it has exited, log why and
        call on_comfyui_exit, without waiting for a request to notice. Does nothing without a process."""
        if self.process is None or self._watcher is not None:
            return

        def watch():
            while self.process.poll() is None:
                time.sleep(every_seconds)
            self.comfyui_exited()

        self._watcher = threading.Thread(target=watch, name="comfyui-watch", daemon=True)
        self._watcher.start()

    def comfyui_exited(self):
        """ComfyUI is gone: log its last lines and call on_comfyui_exit, once however many threads see it."""
        if not self._exit_once.acquire(blocking=False):
            return
        self.log_exit()
        if self.on_comfyui_exit is not None:
            try:
                self.on_comfyui_exit()
            except Exception as e:  # noqa: BLE001 - the container still answers 503, whatever the callback did
                print(f"on_comfyui_exit failed: {e!r}", file=sys.stderr)

    def attach_gpu(self):
        """After a restore: ComfyUI, started with the GPU hidden, sets up its device now. Returns the device."""
        request = urllib.request.Request(f"{self.url}/modal-cdk/gpu", data=b"", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except (OSError, urllib.error.URLError) as e:
            raise RuntimeError(f"ComfyUI did not take the GPU after the restore ({e}):\n{self.log_tail()}") from None

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

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log_tail(self):
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])

    # -- one request ------------------------------------------------------------------------------

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

    def check_alive(self):
        """503 when the ComfyUI this runner started has exited (instead of a request that hangs). The body
        says no more: ComfyUI's log holds other requests' inputs and errors, so it goes to the server's own
        log (stderr), once."""
        if self.process is not None and self.process.poll() is not None:
            self.log_exit()
            if not self._exit_once.locked():  # on_comfyui_exit off the request's thread
                threading.Thread(target=self.comfyui_exited, daemon=True).start()
            code = self.process.returncode
            message = f"ComfyUI is not running (it exited with {code}): this container takes no new requests and is being replaced; retry"
            raise ComfyError(503, {"message": message})

    def log_exit(self):
        """ComfyUI's exit code and last log lines, to the server's own log (stderr), once."""
        if not self._exit_logged:
            self._exit_logged = True
            code = self.process.returncode
            print(f"ComfyUI exited with {code}; the last lines of its log:\n{self.log_tail()}", file=sys.stderr)

    def health(self):
        """(HTTP status, body) for GET /health: 503 when ComfyUI has exited or does not answer within
        HEALTH_TIMEOUT_SECONDS (a hung ComfyUI), else 200."""
        try:
            self.check_alive()
            self._get("/system_stats", timeout=HEALTH_TIMEOUT_SECONDS)
        except ComfyError as e:
            return 503, {"status": "unhealthy", "message": e.detail["message"]}
        except (OSError, ValueError) as e:
            # urllib wraps a refused connection in a URLError (its `reason`)
            if isinstance(e, ConnectionRefusedError) or isinstance(getattr(e, "reason", None), ConnectionRefusedError):
                return 503, {
                    "status": "unhealthy",
                    "message": "ComfyUI refused the connection: it is not listening (yet)",
                }
            return 503, {
                "status": "unhealthy",
                "message": f"ComfyUI did not answer within {HEALTH_TIMEOUT_SECONDS} s ({type(e).__name__})",
            }
        return 200, {"status": "healthy"}

    def execute(self, spec, values, accept="", job=None):
        """Bind, check model files, queue, wait and collect; returns (body, media type, headers)."""
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
        # Several files (a batch) cannot be one binary answer: they come as JSON, as when asked for.
        as_json = "application/json" in accept or len(outputs["files"]) > 1
        body, media_type = encode_output(
            outputs, spec["output"], spec["content_type"], as_json, spec.get("keep_metadata", False)
        )
        elapsed = time.monotonic() - started
        headers = {"X-Execution-Time-Ms": str(round(elapsed * 1000)), "X-Prompt-Id": prompt_id}
        if self.usd_per_second is not None:
            headers["X-Cost-USD"] = f"{elapsed * self.usd_per_second:.6f}"
        if seed is not None:
            headers["X-Seed"] = str(seed)
        return body, media_type, headers

    def workflow(self, name):
        if name not in self._workflows:
            self._workflows[name] = json.loads((self.workflows_dir / name).read_text())
        return self._workflows[name]

    def bind(self, spec, values, request_id, inputs=None, job=None):
        """The endpoint's graph with the request's values set; returns (graph, seed used, input files).
        `inputs`: a list the saved input files are added to as they are saved, so that a request refused
        half-way (its second image) still has its first one deleted."""
        graph = copy.deepcopy(self.workflow(spec["workflow"]))
        values = request_values(spec["fields"], values)
        seed = None
        inputs = [] if inputs is None else inputs
        for field in spec["fields"]:
            value = values.get(field["name"])
            if field["type"] == "seed" and value is None:
                value = random.randint(field.get("random_min", 0), field.get("random_max", SEED_MAX))
            if value is None or not field["targets"]:
                continue
            if field["type"] == "seed":
                seed = value
            if "format" in field:
                value = field["format"].format_map(FormatValues(values)).strip()
            if "clamp" in field:
                value = min(max(value, field["clamp"][0]), field["clamp"][1])
            if isinstance(value, list):
                value = value[0]
            suffix = field.get("ensure_suffix")
            if suffix and not value.endswith(suffix):
                value += suffix
            if field["type"] in ("image", "video"):
                path = self.save_input_file(value, field, request_id, job)
                inputs.append(path)
                value = path.name
            value = field.get("map", {}).get(json_text(value), value)
            for node, name in field["targets"]:
                graph[node]["inputs"][name] = value
        for node_id, node in graph.items():
            if "filename_prefix" in node["inputs"]:
                node["inputs"]["filename_prefix"] = f"mcdk_{request_id}_{node_id}"
        return graph, seed, inputs

    def save_input_file(self, value, field, request_id, job=None):
        """Save a request's image or video (base64, a data URL or an https URL) into ComfyUI's input dir
        under a unique name. A URL is fetched within the request's deadline and stops when its client goes."""
        name, kind, max_bytes = field["name"], field["type"], field["max_bytes"]
        if self.comfy_dir is None:
            raise ComfyError(
                501,
                {
                    "field": name,
                    "message": f"{name}: this server does not know ComfyUI's directory, so it cannot pass a {kind} to it (local serve: give --comfy-dir)",
                },
            )
        if value[:6].lower() in ("https:", "http:/"):  # schemes are case-insensitive (RFC 3986 §3.1)
            data, media_type = self.url_policy.fetch(
                value,
                name,
                kind,
                max_bytes,
                deadline=job.deadline if job else None,
                cancelled=(lambda: job.cancelled) if job else None,
            )
            extension = DATA_URL_EXTENSIONS[media_type]
        else:
            data, extension = decode_inline_file(value, name, kind, max_bytes)
        check_media(data, field)
        path = self.comfy_dir / "input" / f"mcdk_{request_id}_{name}{extension}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def check_model_files(self, spec, values, graph):
        """422 naming the file when a sent field names a model file ComfyUI does not list (a LoRA not
        trained yet), before a prompt is queued. Volumes are reloaded first, so a file committed since the
        container started counts; a reload that fails (files open) leaves the view as it was."""
        checks = {}  # node input → (field, folder); a later field setting the same input wins, as in bind
        for field in spec["fields"]:
            if "model_folder" in field and values.get(field["name"]) is not None and field["targets"]:
                checks[tuple(field["targets"][0])] = field
        if not checks:
            return
        if self.reload_volumes is not None:
            try:
                self.reload_volumes()
            except Exception as e:  # noqa: BLE001 - Modal raises plain errors for open files
                print(f"volume reload failed, looking files up as they are: {e}", file=sys.stderr)
        listed = {}
        for (node, name), field in sorted(checks.items()):
            folder = field["model_folder"]
            if folder not in listed:
                try:
                    listed[folder] = set(self._get(f"/models/{urllib.parse.quote(folder)}"))
                except urllib.error.HTTPError as e:
                    raise ComfyError(
                        500,
                        {
                            "field": field["name"],
                            "message": f"ComfyUI has no models folder {folder!r} (HTTP {e.code}): fix the field's modelFolder",
                        },
                    ) from e
            value = graph[node]["inputs"][name]
            if value not in listed[folder]:
                sent = values.get(field["name"])
                looked_up = "" if sent == value else f" (looked up as {value!r})"
                raise ComfyError(
                    422,
                    {
                        "field": field["name"],
                        "message": f"{field['name']}: no file {sent!r}{looked_up} in ComfyUI's {folder} folder (the app's volume): upload or train it first",
                    },
                )

    def queue_and_wait(self, graph, client_id, timeout, job=None):
        """POST the graph and wait for it on ComfyUI's websocket; returns the prompt id."""
        import websocket

        job = job or Job()
        try:
            ws = websocket.create_connection(
                f"{self.url.replace('http', 'ws', 1)}/ws?clientId={client_id}",
                timeout=min(timeout, COMFY_CALL_TIMEOUT_SECONDS),
            )
        except websocket.WebSocketTimeoutException as e:
            self.check_alive()
            raise ComfyError(504, {"message": "ComfyUI did not open its websocket in time: it may be hung"}) from e
        except (websocket.WebSocketException, OSError) as e:
            self.check_alive()
            raise ComfyError(503, {"message": f"ComfyUI did not open its websocket ({type(e).__name__})"}) from e
        prompt_id = None
        try:
            with job.lock:
                job.ws = ws
                if job.cancelled:
                    raise ComfyError(
                        CLIENT_CLOSED_REQUEST, {"message": "the client disconnected before the prompt was queued"}
                    )
            # The prompt's id is ours (every release since 0.3.67 takes one; 0.28.2 wants a canonical UUID),
            # so logs and the X-Prompt-Id header name the same prompt ComfyUI runs.
            ours = str(uuid.uuid4())
            body = {"prompt": graph, "client_id": client_id, "prompt_id": ours}
            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            if key:
                body["extra_data"] = {"api_key_comfy_org": key}
            status, answer = self._post("/prompt", body)
            if status != 200 or answer.get("node_errors"):
                raise ComfyError(422, node_errors_detail(answer))
            prompt_id = answer.get("prompt_id", ours)
            with job.lock:
                job.prompt_id = prompt_id
                cancelled = job.cancelled
            if cancelled:
                self.cancel_prompt(prompt_id)
                raise ComfyError(CLIENT_CLOSED_REQUEST, {"message": "the client disconnected: prompt cancelled"})
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise websocket.WebSocketTimeoutException()
                ws.settimeout(remaining)
                message = ws.recv()
                if not isinstance(message, str):
                    continue  # binary preview frames
                event = json.loads(message)
                data = event.get("data", {})
                if data.get("prompt_id") != prompt_id:
                    continue
                if event["type"] == "execution_error":
                    raise ComfyError(
                        500,
                        {
                            "message": data.get("exception_message", "execution failed"),
                            "node_id": data.get("node_id"),
                            "class_type": data.get("node_type"),
                        },
                    )
                if event["type"] in ("executing", "progress") and job.on_progress is not None:
                    job.on_progress(event["type"], data)
                if event["type"] == "executed" and data.get("output") is not None:
                    job.outputs[data.get("node")] = data["output"]
                if event["type"] == "execution_interrupted":
                    raise ComfyError(
                        500,
                        {
                            "message": "ComfyUI interrupted the workflow (another client sent /interrupt)",
                            "node_id": data.get("node_id"),
                            "class_type": data.get("node_type"),
                        },
                    )
                if event["type"] == "execution_success" or (event["type"] == "executing" and data.get("node") is None):
                    return prompt_id
        except websocket.WebSocketTimeoutException as e:
            self.cancel_prompt(prompt_id)
            raise ComfyError(504, {"message": f"the workflow did not finish within {timeout} s: interrupted"}) from e
        except (websocket.WebSocketException, OSError) as e:
            if job.cancelled:
                raise ComfyError(CLIENT_CLOSED_REQUEST, {"message": "the client disconnected: prompt cancelled"}) from e
            self.check_alive()
            raise ComfyError(503, {"message": "ComfyUI closed the connection while running the workflow"}) from e
        finally:
            ws.close()

    def cancel(self, job, give_up_after=COMFY_CALL_TIMEOUT_SECONDS):
        """Cancel a request whose client went away (run on a thread of its own, never the event loop's):
        the thread waiting on the websocket wakes up, and its prompt leaves the queue or is interrupted.
        A ComfyUI that does not answer is asked again until `give_up_after` seconds have passed; then the
        outputs the prompt may still write are deleted when it finishes (see reap_outputs)."""
        with job.lock:
            job.cancelled = True
            prompt_id, ws = job.prompt_id, job.ws
        if ws is not None:
            ws.abort()
        if prompt_id is None:
            return
        give_up = time.monotonic() + give_up_after
        while not self.cancel_prompt(prompt_id) and time.monotonic() < give_up:
            time.sleep(1)
        self.reap_outputs(prompt_id, job.request_id, give_up)

    def cancel_prompt(self, prompt_id):
        """Take this prompt off ComfyUI's queue, or interrupt it if it is running (never another's).
        Where ComfyUI has POST /api/jobs/{id}/cancel (0.28.2 has it; 0.10.0 and older do not), that one call
        does both atomically (it interrupts only if that prompt is still the one running); elsewhere a
        /queue delete and a targeted /interrupt. Returns whether ComfyUI took the call(s)."""
        try:
            if self.job_cancel_route is not False:
                status, _ = self._post(f"/api/jobs/{prompt_id}/cancel", {}, timeout=5)
                self.job_cancel_route = status == 200  # 404/405: a release without it; asked once
                if status == 200:
                    return True
            self._post("/queue", {"delete": [prompt_id]}, timeout=5)
            self._post("/interrupt", {"prompt_id": prompt_id}, timeout=5)
            return True
        except (OSError, http.client.HTTPException):
            return self.process is not None and self.process.poll() is not None  # ComfyUI gone: nothing left

    def reap_outputs(self, prompt_id, request_id, until):
        """Delete what a cancelled prompt wrote into output/ (its files carry the request's prefix), once
        ComfyUI no longer lists it as queued or running, or at `until`."""
        if self.comfy_dir is None or request_id is None:
            return
        while time.monotonic() < until:
            try:
                queue = self._get("/queue", timeout=5)
                if not any(
                    item[1] == prompt_id for item in queue.get("queue_running", []) + queue.get("queue_pending", [])
                ):
                    break
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(1)
        for path in (self.comfy_dir / "output").glob(f"mcdk_{request_id}_*"):
            path.unlink(missing_ok=True)

    def collect(self, prompt_id, output_node, node_outputs=None):
        """The output files (bytes) and texts of one node. `node_outputs`: what its `executed` event
        carried; else /history has it. Files are read from ComfyUI's directory when known, else /view."""
        if node_outputs is None:
            history = self._get(f"/history/{prompt_id}").get(prompt_id, {})
            node_outputs = history.get("outputs", {}).get(output_node, {})
        files, paths = [], []
        for key in ("images", "gifs", "video", "audio"):
            for item in node_outputs.get(key, []):
                if self.comfy_dir is not None and item.get("type") in ("output", "temp"):
                    path = self.comfy_dir / item["type"] / item.get("subfolder", "") / item["filename"]
                    files.append((item["filename"], path.read_bytes()))
                    paths.append(path)
                    continue
                query = urllib.parse.urlencode({k: item.get(k, "") for k in ("filename", "subfolder", "type")})
                with urllib.request.urlopen(f"{self.url}/view?{query}", timeout=COMFY_CALL_TIMEOUT_SECONDS) as response:
                    files.append((item["filename"], response.read()))
        texts = node_outputs.get("text", [])
        if not files and not texts:
            raise ComfyError(500, {"message": f"node {output_node} produced no output", "node_id": output_node})
        return {"files": files, "texts": texts, "paths": paths}

    # -- HTTP helpers -----------------------------------------------------------------------------

    def _get(self, path, timeout=COMFY_CALL_TIMEOUT_SECONDS):
        with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as response:
            return json.loads(response.read())

    def _post(self, path, payload, timeout=COMFY_CALL_TIMEOUT_SECONDS):
        request = urllib.request.Request(
            f"{self.url}{path}", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                return response.status, json.loads(text) if text else {}
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text) if text else {}
            except ValueError:  # aiohttp's own 404/405 pages are plain text
                return e.code, {"message": text.decode(errors="replace")}


class FormatValues(dict):
    """Request values for a field's format string: a field left out formats as an empty string."""

    def __missing__(self, key):
        return ""


def request_values(fields, values):
    """The request's values after presets (an aspect ratio setting width and height). An empty string that
    means "left out" (defaultWhenEmpty) was already replaced by the field's default in the request model."""
    values = dict(values)
    for field in fields:
        chosen = values.get(field["name"])
        if chosen is not None and "presets" in field:
            values.update(field["presets"].get(chosen, {}))
    return FormatValues({k: v for k, v in values.items() if v is not None})


def json_text(value):
    """A value as the JSON text that keys a field's map (`true`, `GPU`, `3`)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def node_errors_detail(answer):
    """ComfyUI's /prompt validation answer as a 422 detail naming each failing node."""
    nodes = []
    for node_id, entry in sorted(answer.get("node_errors", {}).items()):
        messages = [f"{e.get('message')}: {e.get('details')}" for e in entry.get("errors", [])]
        nodes.append({"node_id": node_id, "class_type": entry.get("class_type"), "errors": messages})
    error = answer.get("error", {})
    message = error.get("message", "ComfyUI rejected the workflow") if isinstance(error, dict) else str(error)
    return {"message": message, "node_errors": nodes}


def serve(argv=None):
    """Local serve (`npm run serve`): this app's FastAPI routes with uvicorn, on an already-running ComfyUI."""
    import argparse
    import importlib.util

    import uvicorn

    parser = argparse.ArgumentParser(prog="comfy_runtime.py serve", description=serve.__doc__)
    parser.add_argument("--app-file", required=True, help="the synthesized app.py")
    parser.add_argument("--comfy-url", default="http://127.0.0.1:8188")
    parser.add_argument(
        "--comfy-dir", default=None, help="ComfyUI's directory (for image/video inputs and output cleanup)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-active-jobs", type=int, default=None, help="the job queue limit (default: the app's)")
    parser.add_argument("--keep-job-results", type=int, default=None, help="seconds a job's result is kept")
    parser.add_argument(
        "--allow-private-webhooks", action="store_true", help="let jobs' webhooks go to loopback (local tests)"
    )
    parser.add_argument(
        "--warmup", default="app", help="app (the app's warmup), none, or endpoint paths separated by commas"
    )
    args = parser.parse_args(argv)
    app_file = Path(args.app_file).resolve()
    sys.path.insert(0, str(app_file.parent))
    spec = importlib.util.spec_from_file_location("modal_cdk_app", app_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runner = ComfyRunner(
        args.comfy_dir, None, app_file.parent / "workflows", module.GPU_USD_PER_SECOND, url=args.comfy_url
    )
    runner.start(timeout=30)
    runner.warm_up(chosen_warmup(args.warmup, module.WARMUP, module.ENDPOINTS), module.ENDPOINTS)
    jobs = None
    if module.JOBS_MAX_ACTIVE is not None:  # the job routes, with a worker thread and an in-process store
        from jobs import local_jobs

        max_active = args.max_active_jobs or module.JOBS_MAX_ACTIVE
        keep = args.keep_job_results or module.JOBS_KEEP_SECONDS
        # The webhook signing key locally: MODAL_CDK_WEBHOOK_SECRET (whsec_…); on Modal, the app's Secret.
        secret = os.environ.get("MODAL_CDK_WEBHOOK_SECRET")
        jobs = local_jobs(runner, module.ENDPOINTS, max_active, keep, secret, args.allow_private_webhooks)
    uvicorn.run(
        module.create_api(runner, jobs),
        host=args.host,
        port=args.port,
        log_level="warning",
        http=header_timeout_protocol(),
    )


def chosen_warmup(choice, planned, endpoints):
    """serve's --warmup: the app's planned steps (`app`), none, or the named endpoints (planned values when
    the plan has them, else the endpoint's defaults)."""
    if choice == "app":
        return planned
    if choice == "none":
        return []
    steps = []
    for path in [p.strip() for p in choice.split(",") if p.strip()]:
        if path not in endpoints:
            sys.exit(f"--warmup: {path!r} is not an endpoint of this app: expected some of {', '.join(endpoints)}")
        steps.append(next((s for s in planned if s["path"] == path), {"path": path, "values": {}}))
    return steps


def header_timeout_protocol():
    """uvicorn's h11 protocol with a deadline for a request's headers: a connection that has not sent a
    whole request head within HEADER_TIMEOUT_SECONDS is closed (uvicorn itself waits forever). On Modal,
    Modal's own web front end holds the connection; this is for local serve."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self.header_deadline = self.loop.call_later(HEADER_TIMEOUT_SECONDS, self.drop_if_no_request)

        def drop_if_no_request(self):
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

        def connection_lost(self, exc):
            self.header_deadline.cancel()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit(
            "usage: python comfy_runtime.py serve --app-file app.py [--comfy-url URL] [--comfy-dir DIR] [--port N]"
        )
    serve(sys.argv[2:])

"""Running one prompt on ComfyUI, for modal-cdk's runner (comfy_runtime.ComfyRunner): queue a bound graph
and follow it on ComfyUI's websocket, cancel it, and collect its outputs (deleting ComfyUI's copies). A
mixin: ComfyRunner's __init__ sets the attributes it reads.
"""

import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import uuid

from comfy_process import COMFY_CALL_TIMEOUT_SECONDS
from request_files import ComfyError

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
        # Called with (event type, data) for the prompt's `execution_cached`, `executing` and `progress`
        # events (job_runner.run_job).
        self.on_progress = None
        # The bound graph's node id → class (set by the runner before queueing): what progress counts.
        self.classes = {}


class PromptRunner:
    """Queue, follow, cancel and collect prompts on the runner's ComfyUI."""

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
                if event["type"] in ("execution_cached", "executing", "progress") and job.on_progress is not None:
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


def node_errors_detail(answer):
    """ComfyUI's /prompt validation answer as a 422 detail naming each failing node."""
    nodes = []
    for node_id, entry in sorted(answer.get("node_errors", {}).items()):
        messages = [f"{e.get('message')}: {e.get('details')}" for e in entry.get("errors", [])]
        nodes.append({"node_id": node_id, "class_type": entry.get("class_type"), "errors": messages})
    error = answer.get("error", {})
    message = error.get("message", "ComfyUI rejected the workflow") if isinstance(error, dict) else str(error)
    return {"message": message, "node_errors": nodes}

"""The ComfyUI process and its health, for modal-cdk's runner (comfy_runtime.ComfyRunner): start ComfyUI
on loopback and wait until it answers, watch it, give it the GPU after a memory-snapshot restore, answer
/health, and call its HTTP API. A mixin: ComfyRunner's __init__ sets the attributes it reads.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from request_files import ComfyError

LOG_TAIL_LINES = 40
# How long /health waits for ComfyUI's /system_stats before calling it hung.
HEALTH_TIMEOUT_SECONDS = 3
# Each call to ComfyUI's HTTP API (queue, history, models) waits at most this long: a hung ComfyUI is a 503.
COMFY_CALL_TIMEOUT_SECONDS = 30


class ComfyProcess:
    """The ComfyUI server a runner uses: the one it started (`process`), or one already running at `url`."""

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

"""Local serve (`modal-cdk serve`): one app's FastAPI routes with uvicorn on this machine, against an
already-running ComfyUI, with the job routes on an in-process store. Shipped beside the runtime in each app
folder of synth.out; never part of a Modal image.

    python local_serve.py --app-file app.py [--comfy-url URL] [--comfy-dir DIR] [--port N] ...
"""

import os
import sys
from pathlib import Path

from comfy_runtime import ComfyRunner

# A connection must send its request's headers within this many seconds (overridable for tests).
HEADER_TIMEOUT_SECONDS = float(os.environ.get("MODAL_CDK_HEADER_TIMEOUT_SECONDS", "10"))


def serve(argv=None):
    """Local serve (`npm run serve`): this app's FastAPI routes with uvicorn, on an already-running ComfyUI."""
    import argparse
    import importlib.util

    import uvicorn

    parser = argparse.ArgumentParser(prog="local_serve.py", description=serve.__doc__)
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
        "--results-dir", default=None, help="where jobs' output files go (default: a temporary folder, removed at exit)"
    )
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
        from job_runner import local_jobs

        max_active = args.max_active_jobs or module.JOBS_MAX_ACTIVE
        keep = args.keep_job_results or module.JOBS_KEEP_SECONDS
        # The webhook signing key locally: MODAL_CDK_WEBHOOK_SECRET (whsec_…); on Modal, the app's Secret.
        secret = os.environ.get("MODAL_CDK_WEBHOOK_SECRET")
        jobs = local_jobs(
            runner,
            module.ENDPOINTS,
            max_active,
            keep,
            results_folder(args.results_dir),
            secret,
            args.allow_private_webhooks,
        )
    uvicorn.run(
        module.create_api(runner, jobs),
        host=args.host,
        port=args.port,
        log_level="warning",
        http=header_timeout_protocol(),
    )


def results_folder(given):
    """--results-dir, made if missing; or a new temporary folder of ours, removed when serve exits."""
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="modal-cdk-results-")
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder)


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
    serve(sys.argv[1:])

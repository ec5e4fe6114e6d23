"""A large job result through the job front door (part of `npm run bench`): a 200 MB output file, served by
the job routes (job_routes.py, as `jobs_api` serves them on Modal, here with uvicorn on loopback) in a
process of their own; the time to the first byte and to the last of GET /jobs/{id}/result, of a 1 MiB
Range read from the middle, and the serving process's peak resident memory while it sends the whole file
(Linux's VmHWM, reset just before). Medians of a few runs. On Modal the file is on a Volume or a bucket
mount, whose read speed only a live Modal shows."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx


def serve(args):
    """The child: the job routes over one finished job whose output is the file already in --root."""
    sys.path.insert(0, args.runtime)
    import jobs
    import uvicorn
    from fastapi import FastAPI
    from job_results import ResultFiles
    from job_routes import add_job_routes

    endpoints = {"/big": {"timeout_seconds": 600, "content_type": "image/png", "output": "png"}}
    queue = jobs.Jobs(
        jobs.ExpiringStore(jobs.LockedDict()), lambda *a: None, endpoints, 10, 86_400, ResultFiles(args.root)
    )
    size = (Path(args.root) / args.job / "out.png").stat().st_size
    record = {"id": args.job, "endpoint": "/big", "status": jobs.RUNNING, "created_at": time.time(), "deadline": None}
    record = queue.save({**record, "outputs": [{"name": "out.png", "content_type": "image/png", "size_bytes": size}]})
    queue.finish(
        record, jobs.SUCCEEDED, result={"binary": True, "content_type": "image/png", "headers": {}, "texts": []}
    )
    api = FastAPI()
    add_job_routes(api, queue)
    uvicorn.run(api, host="127.0.0.1", port=args.port, log_level="warning")


def kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def timed_get(url, headers=None):
    """(seconds to the first byte, seconds to the last, bytes)."""
    started = time.perf_counter()
    first, received = None, 0
    with httpx.stream("GET", url, headers=headers or {}, timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 20):
            first = first or time.perf_counter() - started
            received += len(chunk)
    return first, time.perf_counter() - started, received


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runtime", required=True, help="a synthesized app folder (jobs.py and its neighbours)")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args)
    with tempfile.TemporaryDirectory(prefix="modal-cdk-bench-results-") as root:
        job = uuid.uuid4().hex
        (Path(root) / job).mkdir()
        with open(Path(root) / job / "out.png", "wb") as f:
            for _ in range(args.size_mb):
                f.write(os.urandom(1 << 20))
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                "--runtime",
                args.runtime,
                "--root",
                root,
                "--job",
                job,
                "--port",
                str(port),
            ]
        )
        try:
            url = f"http://127.0.0.1:{port}/jobs/{job}/result"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/jobs/{job}", timeout=2).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            whole, ranged, grown = [], [], []
            middle = args.size_mb << 19
            for _ in range(args.runs):
                before = kib(child.pid, "VmRSS")
                Path(f"/proc/{child.pid}/clear_refs").write_text("5")
                whole.append(timed_get(url))
                grown.append(kib(child.pid, "VmHWM") - before)
                ranged.append(timed_get(url, {"Range": f"bytes={middle}-{middle + (1 << 20) - 1}"}))
            assert all(r[2] == args.size_mb << 20 for r in whole) and all(r[2] == 1 << 20 for r in ranged)
            ms = lambda values: statistics.median(values) * 1000  # noqa: E731
            print(f"job result of {args.size_mb} MB from the job routes, loopback (medians of {args.runs}):")
            print(f"  GET /result: first byte              {ms([r[0] for r in whole]):8.1f} ms")
            print(f"  GET /result: whole file              {ms([r[1] for r in whole]):8.1f} ms")
            print(f"  Range 1 MiB from the middle: first   {ms([r[0] for r in ranged]):8.1f} ms")
            print(f"  serving process peak memory growth   {max(grown) / 1024:8.1f} MiB (the file: {args.size_mb} MB)")
        finally:
            child.terminate()
            child.wait(10)


if __name__ == "__main__":
    main()

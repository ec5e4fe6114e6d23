"""Per-request overhead of the generated FastAPI app and runtime over ComfyUI's own execution time.

A real ComfyUI (the test tier's, CPU) runs the no-weights graph EmptyImage → ImageInvert → SaveImage at
64×64; each request sets another colour, so ComfyUI's cache never skips the work. For each request:
overhead = the client's wall time − ComfyUI's execution time (its history's execution_start →
execution_success). Through our app that wall time is the whole HTTP call: validation, binding, /prompt, the
websocket wait, /history, /view, file deletion and the answer. The same graph through comfy-cli's
`comfy run --workflow … --wait` (what Modal's ComfyUI example does) is the comparison; it does not even
fetch the image. The job path (submit with Prefer: respond-async, poll the job, fetch its result) is measured
the same way, on local serve's backend (a worker thread and an in-process store).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "comfyui"))
from conftest import start_comfyui, start_serve

GRAPH = json.loads((ROOT / "test" / "fixtures" / "comfy" / "invert.json").read_text())


def comfy_seconds(comfy_url, prompt_id):
    """ComfyUI's own execution time of a prompt, from its history's timestamps (ms)."""
    status = httpx.get(f"{comfy_url}/history/{prompt_id}", timeout=10).json()[prompt_id]["status"]
    stamps = {
        name: data["timestamp"] for name, data in status["messages"] if name in ("execution_start", "execution_success")
    }
    return (stamps["execution_success"] - stamps["execution_start"]) / 1000


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def through_runtime(api, comfy_url, requests):
    overheads, walls = [], []
    with httpx.Client(timeout=60) as client:
        for i in range(requests + 5):
            started = time.perf_counter()
            response = client.post(f"{api}/invert", json={"width": 64, "height": 64, "color": 1000 + i})
            wall = time.perf_counter() - started
            response.raise_for_status()
            if i >= 5:  # warm-up
                walls.append(wall)
                overheads.append(wall - comfy_seconds(comfy_url, response.headers["x-prompt-id"]))
    return walls, overheads


def through_jobs(api, comfy_url, requests, poll_seconds=0.002):
    """The same requests as jobs: submit (Prefer: respond-async), poll GET /jobs/{id} until it succeeded,
    GET its result. The wall time covers all three."""
    overheads, walls = [], []
    with httpx.Client(timeout=60) as client:
        for i in range(requests + 5):
            started = time.perf_counter()
            job = client.post(
                f"{api}/invert",
                json={"width": 64, "height": 64, "color": 3000 + i},
                headers={"Prefer": "respond-async"},
            ).json()
            while (status := client.get(f"{api}/jobs/{job['id']}").json())["status"] not in ("succeeded", "failed"):
                time.sleep(poll_seconds)
            response = client.get(f"{api}/jobs/{job['id']}/result")
            wall = time.perf_counter() - started
            response.raise_for_status()
            if i >= 5:
                walls.append(wall)
                overheads.append(wall - comfy_seconds(comfy_url, response.headers["x-prompt-id"]))
    return walls, overheads


def through_comfy_run(comfy_cli, comfy_url, requests, work):
    overheads, walls = [], []
    port = comfy_url.rsplit(":", 1)[1]
    env = {**os.environ, "HOME": str(work)}  # comfy-cli keeps its config and job files under HOME
    for i in range(requests + 1):
        graph = json.loads(json.dumps(GRAPH))
        graph["1"]["inputs"]["color"] = 5000 + i
        workflow = work / f"invert-{i}.json"
        workflow.write_text(json.dumps(graph))
        started = time.perf_counter()
        done = subprocess.run(
            [
                comfy_cli,
                "--skip-prompt",
                "--where",
                "local",
                "run",
                "--workflow",
                workflow,
                "--wait",
                "--host",
                "127.0.0.1",
                "--port",
                port,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        if i >= 1:
            prompt_id = json.loads(done.stdout.strip().splitlines()[-1])["data"]["prompt_id"]
            walls.append(wall)
            overheads.append(wall - comfy_seconds(comfy_url, prompt_id))
    return walls, overheads


def row(name, walls, overheads):
    ms = lambda s: f"{s * 1000:8.1f}"
    return (
        f"  {name:<44} n={len(walls):<3} overhead p50 {ms(statistics.median(overheads))} ms  p95 {ms(percentile(overheads, 0.95))} ms"
        f"   (wall p50 {ms(statistics.median(walls))} ms)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--project", required=True, help="a project dir whose cdk-like.json builds test/fixtures/comfy-stack.ts"
    )
    parser.add_argument("--comfy-cli", required=True, help="the comfy executable (comfy-cli)")
    parser.add_argument("--requests", type=int, default=60, help="requests through the runtime (default 60)")
    parser.add_argument("--comfy-run-requests", type=int, default=20, help="comfy run calls (default 20; ~1 s each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        comfy, comfy_url = start_comfyui(work)
        serve, api = start_serve(args.project, comfy_url, work)
        try:
            ours = through_runtime(api, comfy_url, args.requests)
            jobs = through_jobs(api, comfy_url, args.requests)
            theirs = through_comfy_run(args.comfy_cli, comfy_url, args.comfy_run_requests, work)
        finally:
            serve.send_signal(signal.SIGINT)
            comfy.kill()
            serve.wait(10)
    print("runtime overhead over ComfyUI's own execution (64×64 EmptyImage → ImageInvert → SaveImage, CPU)")
    print(row("modal-cdk app + runtime (HTTP, image back)", *ours) + "   target p50 ≤ 15 ms")
    extra = statistics.median(jobs[1]) - statistics.median(ours[1])
    print(
        row("the same as a job (submit, poll 2 ms, result)", *jobs)
        + f"   +{extra * 1000:.1f} ms p50 over the synchronous path (target < 15 ms)"
    )
    print(row("comfy run --workflow … --wait (comfy-cli)", *theirs))


if __name__ == "__main__":
    main()

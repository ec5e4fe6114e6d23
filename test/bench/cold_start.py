"""The cold start of an app's ComfyUI on this machine (CPU), from process start to the first answer, split
into phases by when ComfyUI's own log lines arrive: Python and torch imported (its "pytorch version" line),
nodes imported (custom nodes' import times printed, or the server starting), server ready (/system_stats
answers), first request done (a 64×64 EmptyImage → ImageInvert → SaveImage prompt). Without custom nodes,
and with the stand-in package of the RYLA packs' schemas (test/comfyui/standin_nodes). Then what a container
restored from a memory snapshot still does (ComfyApp memorySnapshot): phase 2 alone, from the restore (a
ComfyUI started in phase 1 with the GPU hidden by templates/runtime/modal_cdk_snapshot) to the device set
up and to the first request done. Medians of a few runs; a benchmark, not a test.

    .venv-comfy/bin/python test/bench/cold_start.py [--runs 3]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "comfyui"))
from conftest import COMFY, COMFY_PYTHON, free_port, install_standin_nodes

GRAPH = json.loads((ROOT / "test" / "fixtures" / "comfy" / "invert.json").read_text())
PACKS = sorted(p for p in (ROOT / "bin" / "ryla" / "nodes").glob("*.json") if not p.name.startswith("comfyui-"))


def one_start(with_standins, snapshot=False):
    """Seconds from process start to each phase; with `snapshot`, from the end of phase 1 instead."""
    base = Path(tempfile.mkdtemp(prefix="mcdk-cold-"))
    if with_standins:
        install_standin_nodes(base, PACKS)
    if snapshot:  # the GPU hidden by modal-cdk's extension instead of --cpu
        shutil.copytree(
            ROOT / "templates" / "runtime" / "modal_cdk_snapshot", base / "custom_nodes" / "modal_cdk_snapshot"
        )
    port = free_port()
    marks = {}
    started = time.monotonic()
    flags = [] if snapshot else ["--cpu"]
    process = subprocess.Popen(
        [
            COMFY_PYTHON,
            "main.py",
            *flags,
            "--listen",
            "127.0.0.1",
            "--port",
            str(port),
            "--base-directory",
            base,
            "--database-url",
            "sqlite:///:memory:",
            *([] if with_standins or snapshot else ["--disable-all-custom-nodes"]),
        ],
        cwd=COMFY,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **({"MODAL_CDK_GPU_HIDDEN": "1"} if snapshot else {})},
    )

    def read_log():
        for line in process.stdout:
            now = time.monotonic() - started
            if "pytorch version" in line:
                marks.setdefault("python + torch imported", now)
            if "Import times for custom nodes" in line or "Starting server" in line:
                marks.setdefault("nodes imported", now)

    threading.Thread(target=read_log, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/system_stats", timeout=2)
                break
            except OSError:
                time.sleep(0.05)
        marks["server ready"] = time.monotonic() - started
        if snapshot:  # phase 1 ends here; what a restored container does starts now
            marks, started = {}, time.monotonic()
            urllib.request.urlopen(
                urllib.request.Request(f"{url}/modal-cdk/gpu", data=b"", method="POST"), timeout=30
            ).read()
            marks["device set up"] = time.monotonic() - started
        graph = json.loads(json.dumps(GRAPH))
        graph["1"]["inputs"]["color"] = 0x123456
        request = urllib.request.Request(
            f"{url}/prompt",
            data=json.dumps({"prompt": graph, "client_id": uuid.uuid4().hex}).encode(),
            headers={"Content-Type": "application/json"},
        )
        prompt_id = json.load(urllib.request.urlopen(request, timeout=30))["prompt_id"]
        while prompt_id not in json.load(urllib.request.urlopen(f"{url}/history/{prompt_id}", timeout=10)):
            time.sleep(0.02)
        marks["first request done"] = time.monotonic() - started
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(base, ignore_errors=True)
    return marks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    phases = ["python + torch imported", "nodes imported", "server ready", "first request done"]
    print(f"cold start of ComfyUI on this machine (CPU, median of {args.runs} runs; seconds from process start)")
    for label, standins in (("core nodes only", False), ("with the stand-ins of the 7 RYLA packs", True)):
        runs = [one_start(standins) for _ in range(args.runs)]
        cells = [
            f"{phase} {statistics.median(r[phase] for r in runs if phase in r):5.2f}"
            for phase in phases
            if any(phase in r for r in runs)
        ]
        print(f"  {label:40} " + " | ".join(cells))
    runs = [one_start(False, snapshot=True) for _ in range(args.runs)]
    cells = [
        f"{phase} {statistics.median(r[phase] for r in runs):5.2f}" for phase in ("device set up", "first request done")
    ]
    print(f"  {'restored from a snapshot (phase 2 alone)':40} " + " | ".join(cells))


if __name__ == "__main__":
    main()

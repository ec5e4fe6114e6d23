"""Job results as files on the real ComfyUI, through `modal-cdk serve` (outputs in --results-dir, as on the
app's Volume on Modal): a batch's outputs are each listed once written, with size, url and expiry, and served
with Range reads; a 200 MB output (/noise at 8192×8192: noise barely compresses) is streamed by the job routes,
whole and by Range, while the serving process's memory stays bounded — its peak resident memory during the
download is measured (Linux's VmHWM, reset just before), not assumed."""

import hashlib
import signal
import time
from pathlib import Path

import httpx
import pytest
from conftest import start_comfyui, start_serve
from test_real_comfyui import PROJECT

ASYNC = {"Prefer": "respond-async"}
# The most the serving process's resident memory may grow while it sends a 200 MB result.
STREAM_MEMORY_BOUND_BYTES = 48 << 20


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("results-base")
    comfy, comfy_url = start_comfyui(base)
    serve, api = start_serve(
        PROJECT,
        comfy_url,
        base,
        log=open(base / "serve.log", "wb"),
        extra=["--results-dir", str(base / "results")],
    )
    yield {"api": api, "base": base, "results": base / "results", "pid": serving_pid(api)}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def serving_pid(api):
    """The local_serve.py process behind `api` (modal-cdk serve is its parent)."""
    port = api.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"local_serve.py") for a in args) and port.encode() in args:
            return int(cmdline.parent.name)
    raise AssertionError(f"no local_serve.py process on port {port}")


def memory_kib(pid, field):
    """VmRSS (now) or VmHWM (peak since the last reset) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def run_job(served, path, body, seconds=120):
    job = httpx.post(f"{served['api']}{path}", json=body, headers=ASYNC, timeout=30).json()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = httpx.get(f"{served['api']}/jobs/{job['id']}", timeout=10).json()
        if shown["status"] in ("succeeded", "failed", "cancelled"):
            assert shown["status"] == "succeeded", shown
            return shown
        time.sleep(0.2)
    raise AssertionError(f"job {job['id']} did not finish in {seconds} s")


def test_a_batch_lists_each_output_with_its_url_size_and_expiry_and_serves_it_with_range(served):
    shown = run_job(served, "/invert", {"width": 32, "height": 16, "batch_size": 3})
    outputs = shown["outputs"]
    assert len(outputs) == 3 and len({o["name"] for o in outputs}) == 3
    for output in outputs:
        assert output["content_type"] == "image/png" and output["url_expires_at"] == shown["expires_at"]
        assert output["url"] == f"/jobs/{shown['id']}/outputs/{output['name']}"
        on_disk = (served["results"] / shown["id"] / output["name"]).read_bytes()
        assert len(on_disk) == output["size_bytes"] and on_disk[:8] == b"\x89PNG\r\n\x1a\n"
        whole = httpx.get(f"{served['api']}{output['url']}", timeout=10)
        assert whole.status_code == 200 and whole.content == on_disk and whole.headers["accept-ranges"] == "bytes"
        tail = httpx.get(f"{served['api']}{output['url']}", headers={"Range": "bytes=-12"}, timeout=10)
        assert tail.status_code == 206 and tail.content == on_disk[-12:]
        past = httpx.get(f"{served['api']}{output['url']}", headers={"Range": f"bytes={len(on_disk)}-"}, timeout=10)
        assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(on_disk)}"
    # A batch is the synchronous route's JSON form, streamed from the files.
    form = httpx.get(f"{served['api']}/jobs/{shown['id']}/result", timeout=10)
    assert form.status_code == 200 and [f["filename"] for f in form.json()["files"]] == [o["name"] for o in outputs]


def test_a_200_mb_result_streams_with_range_reads_and_bounded_memory(served):
    shown = run_job(served, "/noise", {"width": 8192, "height": 8192, "seed": 7}, seconds=240)
    [output] = shown["outputs"]
    assert output["size_bytes"] >= 200_000_000, output  # noise at 8192×8192: about 200 MB of PNG
    path = served["results"] / shown["id"] / output["name"]
    pid = served["pid"]
    before = memory_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS now
    digest, received = hashlib.sha256(), 0
    started = time.monotonic()
    first_byte = None
    with httpx.stream("GET", f"{served['api']}/jobs/{shown['id']}/result", timeout=60) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        assert int(response.headers["content-length"]) == output["size_bytes"]
        for chunk in response.iter_bytes():
            first_byte = first_byte or time.monotonic() - started
            digest.update(chunk)
            received += len(chunk)
    peak = memory_kib(pid, "VmHWM")
    with open(path, "rb") as f:
        assert digest.hexdigest() == hashlib.file_digest(f, "sha256").hexdigest() and received == output["size_bytes"]
    grew = (peak - before) * 1024
    print(
        f"200 MB result: {received / 1e6:.0f} MB, first byte {first_byte * 1000:.0f} ms, "
        f"whole {time.monotonic() - started:.2f} s, serving process peak +{grew / 2**20:.1f} MiB"
    )
    assert grew < STREAM_MEMORY_BOUND_BYTES, f"the serving process grew {grew / 2**20:.0f} MiB sending the result"
    # A Range from the middle, as a resumed download asks for it.
    middle = output["size_bytes"] // 2
    part = httpx.get(
        f"{served['api']}/jobs/{shown['id']}/result", headers={"Range": f"bytes={middle}-{middle + 65535}"}, timeout=30
    )
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes {middle}-{middle + 65535}/{received}"
    with open(path, "rb") as f:
        f.seek(middle)
        assert part.content == f.read(65536)


def test_the_python_client_streams_a_result_to_a_file_and_resumes_an_output_download(served, tmp_path):
    """clients/endpoints.py: job_result(to_file=…) streams the answer into a file; download_output resumes a
    cut download with a Range request (the bytes already there are kept) and leaves a whole file alone."""
    from conftest import load_module

    client = load_module(PROJECT / "synth.out" / "clients" / "endpoints.py", "endpoints_client_results")
    job = client.submit_job("/noise", {"width": 1024, "height": 512, "seed": 3}, base_url=served["api"])
    done = client.wait_for_job("/noise", job["id"], base_url=served["api"], poll_ms=100)
    [output] = done["outputs"]
    stored = (served["results"] / job["id"] / output["name"]).read_bytes()
    content_type, written, _ = client.job_result(
        "/noise", job["id"], base_url=served["api"], to_file=tmp_path / "r.png"
    )
    assert content_type == "image/png" and written.read_bytes() == stored
    cut = tmp_path / "cut.png"
    third = len(stored) // 3
    # A download that stopped a third of the way, its bytes marked (zeros) so that a resume is told from a restart.
    cut.write_bytes(bytes(third))
    assert client.download_output("/noise", output, cut, base_url=served["api"]) == len(stored)
    assert cut.read_bytes() == bytes(third) + stored[third:]  # only the rest was fetched (Range)
    cut.write_bytes(stored[:third])
    client.download_output("/noise", output, cut, base_url=served["api"])
    assert cut.read_bytes() == stored
    before = cut.stat().st_mtime_ns
    assert client.download_output("/noise", output, cut, base_url=served["api"]) == len(stored)
    assert cut.stat().st_mtime_ns == before  # already whole: nothing fetched

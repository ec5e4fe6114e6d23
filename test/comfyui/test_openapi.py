"""/openapi.json (ComfyApp apiDocs) documents every answer the app gives. schemathesis (PyPI), an OpenAPI
conformance tool, drives the served test app on the real ComfyUI, bounded in examples and time, and must
find no status code, content type, header or body the document does not name."""

import json
import os
import signal
import subprocess

import httpx
import pytest
from conftest import ROOT, placeholder, start_comfyui, start_serve
from test_real_comfyui import PROJECT

CONFORMANCE = (
    "status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"
)


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    """The test app with apiDocs on (its stack reads the context), served against a real ComfyUI."""
    project = tmp_path_factory.mktemp("openapi-project")
    config = json.loads((PROJECT / "cdk-like.json").read_text())
    (project / "cdk-like.json").write_text(json.dumps({**config, "context": {"apiDocs": True}}))
    base = tmp_path_factory.mktemp("openapi-base")
    placeholder(base, "checkpoints", "placeholder.safetensors")
    placeholder(base, "loras", "test/present.safetensors")
    comfy, comfy_url = start_comfyui(base)
    serve, api = start_serve(project, comfy_url, base, log=open(base / "serve.log", "wb"))
    yield {"api": api, "base": base}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def test_the_document_names_every_status_of_every_route(documented):
    doc = httpx.get(f"{documented['api']}/openapi.json", timeout=10).json()
    invert = doc["paths"]["/invert"]["post"]["responses"]
    assert set(invert) == {"200", "202", "408", "413", "422", "429", "500", "503", "504"}
    assert set(invert["200"]["content"]) == {"image/png", "application/json"}
    assert all(set(invert[s]["content"]) == {"application/problem+json"} for s in invert if s >= "400")
    result = doc["paths"]["/jobs/{job_id}/result"]["get"]["responses"]
    assert {"200", "404", "409", "410"} <= set(result)
    assert set(doc["paths"]["/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]) == {"text/event-stream"}
    assert set(doc["paths"]["/health"]["get"]["responses"]) == {"200", "503"}


def test_schemathesis_finds_no_undocumented_answer(documented, tmp_path):
    """Every operation but /slow-patient (the same workflow as /slow with a 60 s limit), each with at most
    4 examples a phase and 25 s in all; a fixed seed, so a failure reproduces."""
    report = tmp_path / "report"
    run = subprocess.run(
        [
            ROOT / ".venv" / "bin" / "st",
            "run",
            f"{documented['api']}/openapi.json",
            "--checks",
            CONFORMANCE,
            "--exclude-path",
            "/slow-patient",
            "--max-examples",
            "4",
            "--max-time",
            "25",
            "--seed",
            "33",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--phases",
            "examples,coverage,fuzzing",
            "--suppress-health-check",
            "all",
            "--report",
            "junit",
            "--report-dir",
            report,
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(ROOT / "test" / "comfyui")},
        cwd=tmp_path,  # st writes its own state (.schemathesis/) into the working directory
        capture_output=True,
        text=True,
        timeout=400,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    # It did exercise the routes: the junit report lists each operation.
    junit = next(report.glob("*.xml")).read_text()
    for operation in ("POST /invert", "POST /upload", "GET /jobs/{job_id}/result", "GET /health"):
        assert operation in junit, operation

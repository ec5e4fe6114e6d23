"""The Comfy.org key of an app that allows partner-API nodes (ComfyApp partnerNodes) goes where ComfyUI
expects it and nowhere else: the runtime sends it as `extra_data.api_key_comfy_org` of /prompt, a real
ComfyUI 0.28.2 hands it to its OpenAIChatNode, and the node sends it as `X-API-KEY` to Comfy.org's API —
here a stand-in on loopback that records what arrives (ComfyUI's `--comfy-api-base`; no traffic leaves the
machine). The key never appears in what the runtime returns nor in ComfyUI's log."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT, comfy_tree, load_module, start_comfyui

KEY = "mcdk-test-key-0123456789"
CHAT = {
    "1": {"class_type": "OpenAIChatNode", "inputs": {"prompt": "hello", "persist_context": False, "model": "gpt-5"}},
    "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
}


@pytest.fixture(scope="module")
def comfy_org(tmp_path_factory):
    """A stand-in of Comfy.org's API: records each request's path and headers, answers 400 (no retry)."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
            body = json.dumps({"error": {"message": "stand-in of api.comfy.org"}}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = tmp_path_factory.mktemp("partner-base")
    api = f"http://127.0.0.1:{server.server_address[1]}"
    process, url = start_comfyui(base, extra_args=["--comfy-api-base", api], tree=comfy_tree("0.28.2"))
    yield {"seen": seen, "url": url, "base": base}
    process.kill()
    server.shutdown()


def runner_for(comfy_org, tmp_path, api_key_env):
    runtime = load_module(ROOT / "templates" / "runtime" / "comfy_runtime.py", "comfy_runtime_partner")
    runner = runtime.ComfyRunner(comfy_org["base"], None, tmp_path, url=comfy_org["url"], api_key_env=api_key_env)
    return runtime, runner


def test_the_key_reaches_the_partner_api_as_comfyui_sends_it_and_nowhere_else(comfy_org, tmp_path, monkeypatch):
    monkeypatch.setenv("MCDK_TEST_COMFY_ORG_KEY", KEY)
    runtime, runner = runner_for(comfy_org, tmp_path, "MCDK_TEST_COMFY_ORG_KEY")
    with pytest.raises(runtime.ComfyError) as error:  # the stand-in answers 400: the node fails
        runner.queue_and_wait(CHAT, "partner", 60)
    calls = [c for c in comfy_org["seen"] if "openai" in c["path"]]
    assert calls, comfy_org["seen"]
    assert calls[-1]["headers"].get("x-api-key") == KEY
    assert KEY not in json.dumps(error.value.detail)
    assert KEY not in (comfy_org["base"] / "comfy.log").read_text(errors="replace")


def test_without_the_variable_no_key_is_sent(comfy_org, tmp_path):
    before = len(comfy_org["seen"])
    assert "MCDK_TEST_UNSET_KEY" not in os.environ
    runtime, runner = runner_for(comfy_org, tmp_path, "MCDK_TEST_UNSET_KEY")
    with pytest.raises(runtime.ComfyError):
        runner.queue_and_wait(CHAT, "partner-nokey", 60)
    assert all("x-api-key" not in c["headers"] for c in comfy_org["seen"][before:])

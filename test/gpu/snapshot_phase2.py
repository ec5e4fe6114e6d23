"""Memory snapshots' phase 2 on a real GPU (run by hand on a GPU machine; CI has none): ComfyUI's device
setup (comfy.model_management) imported in a process where modal-cdk's extension hid the GPU, as in
phase 1, touches no CUDA; then the extension's own `POST /modal-cdk/gpu` handler sets the device up again
and ComfyUI computes on the GPU. Not a snapshot and restore (only Modal does those): the device handover.

    python3 test/gpu/snapshot_phase2.py --comfy <ComfyUI dir>   # prints one JSON line, exits 1 on a failure

It needs ComfyUI's comfy/ package only (cli_args, options, model_management), torch with CUDA, and aiohttp.
"""

import argparse
import asyncio
import json
import os
import runpy
import sys
import time
import types
from pathlib import Path

EXTENSION = Path(__file__).resolve().parents[2] / "templates" / "runtime" / "modal_cdk_snapshot"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comfy", required=True, help="ComfyUI's directory (holds comfy/)")
    comfy_dir = parser.parse_args().comfy
    sys.path.insert(0, comfy_dir)
    sys.argv = ["main.py"]  # ComfyUI's argument parser reads these
    import comfy.options

    comfy.options.enable_args_parsing()

    # Phase 1, as the runtime starts ComfyUI for the snapshot, and as ComfyUI runs prestartup scripts.
    os.environ.update({"MODAL_CDK_GPU_HIDDEN": "1", "PYTORCH_NVML_BASED_CUDA_CHECK": "1"})
    runpy.run_path(str(EXTENSION / "prestartup_script.py"))
    import comfy.model_management as mm
    import torch

    phase1 = {"device": str(mm.get_torch_device()), "cuda_initialized": torch.cuda.is_initialized()}

    # Phase 2: the extension's own route handler, registered on a stand-in PromptServer.
    routes = {}
    server = types.ModuleType("server")
    server.PromptServer = types.SimpleNamespace(
        instance=types.SimpleNamespace(
            routes=types.SimpleNamespace(post=lambda path: lambda handler: routes.setdefault(path, handler))
        )
    )
    sys.modules["server"] = server
    runpy.run_path(str(EXTENSION / "__init__.py"))
    started = time.monotonic()
    response = asyncio.run(routes["/modal-cdk/gpu"](None))
    handover_s = time.monotonic() - started
    answer = json.loads(response.body)

    x = torch.randn(1024, 1024, device=mm.get_torch_device())
    product_ok = bool(torch.isfinite(x @ x).all())
    result = {
        "phase1": phase1,
        "phase2": answer,
        "handover_s": round(handover_s, 3),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "matmul_on_comfy_device": product_ok,
    }
    print(json.dumps(result))
    ok = (
        phase1 == {"device": "cpu", "cuda_initialized": False}
        and answer["device"].startswith("cuda")
        and answer["vram_mb"] > 0
        and product_ok
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

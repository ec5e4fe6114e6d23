"""modal-cdk's ComfyUI extension for Modal memory snapshots, phase 2: `POST /modal-cdk/gpu`.

The runtime calls it after each restore, before the first request. When a GPU is there now, it undoes the
--cpu start of phase 1 (prestartup_script.py) and runs ComfyUI's device setup (comfy.model_management)
again, in place, so every module that reads it sees the GPU. Nothing is on a device yet: phase 1 loads no
model. Without a GPU ComfyUI stays on the CPU. Answers the device ComfyUI uses now.
"""

import importlib
import logging
import os

from aiohttp import web
from server import PromptServer

NODE_CLASS_MAPPINGS = {}
log = logging.getLogger("modal_cdk_snapshot")


@PromptServer.instance.routes.post("/modal-cdk/gpu")
async def attach_gpu(request):
    import comfy.model_management
    import torch
    from comfy.cli_args import args

    if os.environ.pop("MODAL_CDK_GPU_HIDDEN", None) == "1" and torch.cuda.is_available():
        args.cpu = False
        importlib.reload(comfy.model_management)
        log.info("modal-cdk: ComfyUI set up its device again after the restore")
    device = comfy.model_management.get_torch_device()
    return web.json_response({"device": str(device), "vram_mb": int(comfy.model_management.total_vram)})

"""modal-cdk's ComfyUI extension for Modal memory snapshots, phase 1 (ComfyUI runs this before it imports torch).

A CPU memory snapshot is taken on a container without a GPU, and a process that has initialised CUDA there
cannot use the GPU it is given after restore. So when the runtime starts ComfyUI for the snapshot
(MODAL_CDK_GPU_HIDDEN=1), ComfyUI starts as with --cpu: it sets up no device and never touches CUDA.
__init__.py gives it the GPU after restore.
"""

import logging
import os

log = logging.getLogger("modal_cdk_snapshot")

if os.environ.get("MODAL_CDK_GPU_HIDDEN") == "1":
    from comfy.cli_args import args

    args.cpu = True
    log.info("modal-cdk: GPU hidden until POST /modal-cdk/gpu (memory snapshot phase 1)")

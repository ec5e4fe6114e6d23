"""Random-weight model files in the true architecture, for executing a stack's workflows without the real
weights (which cannot be downloaded here). Run with the ComfyUI test venv's Python:

    .venv-comfy/bin/python test/weights/generate.py --manifest synth.out/manifest.json --app instantid \
        --out <models dir> [--only sd_xl_turbo_1.0_fp16.safetensors ...] [--comfy-dir <ComfyUI tree>]

For each model file the app declares, the model is built with ComfyUI's own classes and configs, every
weight filled from a seeded normal distribution (scaled by fan-in so activations stay finite), and saved in
the layout ComfyUI's loader reads (`state_dict_for_saving`, safetensors) to <out>/<target>/<filename>.
The files load and run, and cost what the real ones cost in memory and time; their outputs are noise. They
are never committed and never called real models.

A file whose architecture this script cannot build is refused, by name (exit 1 if any was asked for with
--only). Files of one architecture are generated once and hard-linked under their other names. A file
already there with its `.random-weights.json` sidecar (same architecture and seed) is kept. Each file's
size is compared with the stack's `sizeGb`: a difference over 10% is printed.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

SEED = 20261201
FORMAT_VERSION = 1

# Which architecture each declared file is, by file name: facts about the models (reference/models.md).
ARCHITECTURES = {
    "sd_xl_base_1.0.safetensors": "sdxl-checkpoint",
    "sd_xl_turbo_1.0_fp16.safetensors": "sdxl-checkpoint",
    "sdxl_lightning_4step.safetensors": "sdxl-checkpoint",
}

# ComfyUI's SDXL UNet config (comfy/model_detection.py, unet_config_from_diffusers_unet) and the SD/SDXL VAE
# (comfy/sd.py, VAE.__init__'s default ddconfig).
SDXL_UNET = {
    "use_checkpoint": False, "image_size": 32, "out_channels": 4, "use_spatial_transformer": True, "legacy": False,
    "num_classes": "sequential", "adm_in_channels": 2816, "in_channels": 4, "model_channels": 320,
    "num_res_blocks": [2, 2, 2], "transformer_depth": [0, 0, 2, 2, 10, 10], "channel_mult": [1, 2, 4],
    "transformer_depth_middle": 10, "use_linear_in_transformer": True, "context_dim": 2048, "num_head_channels": 64,
    "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10], "use_temporal_attention": False, "use_temporal_resblock": False,
}
SD_VAE = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128, "ch_mult": [1, 2, 4, 4],
          "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}


def fill(module, generator):
    """Every parameter and buffer from N(0, 1/fan_in) (biases 0, norm scales 1): finite activations."""
    import torch

    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if not tensor.is_floating_point():
                continue
            leaf = name.rsplit(".", 1)[-1]
            if tensor.ndim <= 1:
                tensor.fill_(1.0 if leaf == "weight" else 0.0)
                continue
            fan_in = tensor[0].numel()
            sample = torch.randn(tensor.shape, generator=generator, dtype=torch.float32).mul_(fan_in ** -0.5)
            tensor.copy_(sample.to(tensor.dtype))


def sdxl_checkpoint(path, dtype):
    """An SDXL checkpoint: UNet, both text encoders (CLIP-L, CLIP-G) and the VAE, in the checkpoint layout."""
    import torch
    import comfy.ldm.models.autoencoder
    import comfy.model_detection
    import comfy.sd
    import comfy.utils

    generator = torch.Generator().manual_seed(SEED)
    config = comfy.model_detection.model_config_from_unet_config({**SDXL_UNET, "dtype": dtype})
    config.set_inference_dtype(dtype, None)
    model = config.get_model({}, device="cpu")
    fill(model.diffusion_model, generator)
    clip = comfy.sd.CLIP(config.clip_target(), model_options={"dtype": dtype, "load_device": torch.device("cpu"), "offload_device": torch.device("cpu")})
    fill(clip.cond_stage_model, generator)
    vae = comfy.ldm.models.autoencoder.AutoencoderKL(ddconfig=SD_VAE, embed_dim=4).to(dtype)
    fill(vae, generator)
    state = model.state_dict_for_saving(clip.get_sd(), vae.state_dict())
    state = {k: v.contiguous() for k, v in state.items() if isinstance(v, torch.Tensor)}
    comfy.utils.save_torch_file(state, str(path), metadata={"modal-cdk": "random weights: not a real model"})


BUILDERS = {"sdxl-checkpoint": sdxl_checkpoint}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, type=Path, help="synth.out/manifest.json")
    parser.add_argument("--app", required=True, help="the app whose model files to generate")
    parser.add_argument("--out", required=True, type=Path, help="models directory (<out>/<target>/<filename>)")
    parser.add_argument("--only", nargs="*", default=None, help="only these file names (default: every one the script can build)")
    parser.add_argument("--comfy-dir", type=Path, default=Path(__file__).resolve().parents[2] / ".cache" / "comfyui" / "ComfyUI",
                        help="the ComfyUI tree whose classes build the models (default: the test tier's)")
    parser.add_argument("--dtype", default="float16", choices=["float16", "bfloat16"], help="weight dtype (default float16, as the real files)")
    args = parser.parse_args()

    sys.path.insert(0, str(args.comfy_dir))
    import torch  # noqa: E402 (after argparse, so --help is instant)

    if not torch.cuda.is_available():
        from comfy.cli_args import args as comfy_args

        comfy_args.cpu = True  # as `main.py --cpu`: ComfyUI would otherwise look for CUDA

    manifest = json.loads(args.manifest.read_text())
    app = next((a for a in manifest["apps"] if a["id"] == args.app), None)
    if app is None:
        sys.exit(f"generate.py: no app {args.app!r} in {args.manifest}: expected one of {[a['id'] for a in manifest['apps']]}")
    files = [m for m in app["models"] if m["kind"] != "volume"]
    if args.only is not None:
        unknown = sorted(set(args.only) - {m["filename"] for m in files})
        if unknown:
            sys.exit(f"generate.py: {unknown} not declared by app {args.app}: expected some of {sorted(m['filename'] for m in files)}")
        files = [m for m in files if m["filename"] in args.only]
    refused = [m for m in files if m["filename"] not in ARCHITECTURES]
    for m in refused:
        print(f"refused: {m['target']}/{m['filename']} ({m['constructPath']}): no builder for its architecture in test/weights/generate.py", file=sys.stderr)
    done = {}  # architecture → the file generated for it
    report = []
    for m in (m for m in files if m["filename"] in ARCHITECTURES):
        arch = ARCHITECTURES[m["filename"]]
        path = args.out / m["target"] / m["filename"]
        sidecar = path.with_name(path.name + ".random-weights.json")
        stamp = {"architecture": arch, "seed": SEED, "dtype": args.dtype, "version": FORMAT_VERSION}
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        if path.exists() and sidecar.exists() and json.loads(sidecar.read_text()) == stamp:
            how = "kept"
        elif arch in done:
            path.unlink(missing_ok=True)
            os.link(done[arch], path)
            how = f"linked to {done[arch].name}"
        else:
            BUILDERS[arch](path.with_suffix(".partial"), getattr(torch, args.dtype))
            os.replace(path.with_suffix(".partial"), path)
            how = "generated"
        sidecar.write_text(json.dumps(stamp))
        done.setdefault(arch, path)
        size_gb = path.stat().st_size / 1e9
        declared = m.get("sizeGb")
        off = None if not declared else (size_gb - declared) / declared
        note = "" if off is None or abs(off) <= 0.10 else f"  <- sizeGb {declared} in the stack is {off:+.0%} off: fix it in the stack"
        report.append({"file": f"{m['target']}/{m['filename']}", "architecture": arch, "sizeGb": round(size_gb, 3), "declaredGb": declared, "how": how})
        print(f"{how}: {m['target']}/{m['filename']} ({arch}, {size_gb:.2f} GB, declared {declared} GB) in {time.monotonic() - started:.0f} s{note}")
    print(json.dumps({"app": args.app, "files": report, "refused": [m["filename"] for m in refused]}))
    if args.only is not None and refused:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Random-weight model files in the true architecture, for executing a stack's workflows without the real
weights (which cannot be downloaded here). Run with the ComfyUI test venv's Python (or any Python with torch
and safetensors beside a ComfyUI tree):

    .venv-comfy/bin/python test/weights/generate.py --manifest synth.out/manifest.json --app instantid \\
        --out <models dir> [--only sd_xl_turbo_1.0_fp16.safetensors ...] [--comfy-dir <ComfyUI tree>]

For each model file the app declares, its tensors come from the model built with ComfyUI's own classes
and configs on PyTorch's meta device (test/weights/architectures.py: no memory), checked by ComfyUI's own
detection, and are written one at a time as safetensors in the layout ComfyUI's loader reads, each filled
from a seeded N(0, 1/fan_in) (biases 0, norm scales 1: activations stay finite), on the GPU when there is
one. The files load and run, and cost what the real ones cost in memory and time; their outputs are noise.
They are never committed and never called real models (their metadata says so).

A file whose architecture this script cannot build is refused, by name (exit 1 when it was asked for with
--only). Files of one architecture are generated once and hard-linked under their other names. A file
already there with its `.random-weights.json` sidecar (same architecture, seed and version) is kept. Each
file's size is compared with the stack's `sizeGb`: a difference over 10% is printed.
"""

import argparse
import json
import os
import shutil
import sys
import time
import zlib
from pathlib import Path

SEED = 20261201
FORMAT_VERSION = 2
# Room left on the disk after a file is written (the tests write outputs and ComfyUI's temp files after it).
DISK_MARGIN_BYTES = 2 * 10**9
SAFETENSORS_DTYPES = {
    "float16": "F16",
    "bfloat16": "BF16",
    "float32": "F32",
    "float8_e4m3fn": "F8_E4M3",
    "int64": "I64",
    "int32": "I32",
    "uint8": "U8",
}


def fill(name, meta, device):
    """The tensor `name` of the file: random, as described above, in the meta tensor's shape and dtype."""
    import torch

    if meta.device.type != "meta":  # data the file carries as it is (a tokenizer model)
        return meta
    if not meta.is_floating_point():
        return torch.zeros(meta.shape, dtype=meta.dtype)
    if meta.ndim <= 1:
        leaf = name.rsplit(".", 1)[-1]
        return torch.full(meta.shape, 1.0 if leaf in ("weight", "scale") else 0.0, dtype=meta.dtype)
    generator = torch.Generator(device=device).manual_seed(SEED ^ zlib.crc32(name.encode()))
    sample = torch.randn(meta.shape, generator=generator, device=device, dtype=torch.float32)
    return sample.mul_(meta[0].numel() ** -0.5).to(meta.dtype).cpu()


def write_safetensors(path, state, metadata, device):
    """Writes `state` (name → meta tensor) as a safetensors file, one tensor in memory at a time."""
    header, offset = {"__metadata__": metadata}, 0
    names = sorted(state)
    for name in names:
        size = state[name].numel() * state[name].element_size()
        header[name] = {
            "dtype": SAFETENSORS_DTYPES[str(state[name].dtype).removeprefix("torch.")],
            "shape": list(state[name].shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little"))
        f.write(encoded)
        for name in names:
            tensor = fill(name, state[name], device).contiguous()
            f.write(memoryview(tensor.view(-1).view(__import__("torch").uint8).numpy()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, type=Path, help="synth.out/manifest.json")
    parser.add_argument("--app", required=True, help="the app whose model files to generate")
    parser.add_argument("--out", required=True, type=Path, help="models directory (<out>/<target>/<filename>)")
    parser.add_argument(
        "--only", nargs="*", default=None, help="only these file names (default: every one the script can build)"
    )
    parser.add_argument(
        "--comfy-dir",
        type=Path,
        default=Path(__file__).resolve().parents[2] / ".cache" / "comfyui" / "ComfyUI",
        help="the ComfyUI tree whose classes build the models (default: the test tier's)",
    )
    parser.add_argument("--check-only", action="store_true", help="build and check each layout, write nothing")
    parser.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="PATH=ARCH",
        help="also a random LoRA at <out>/PATH over ARCH's diffusion model (e.g. loras/ryla/x.safetensors=flux-dev-diffusion): "
        "the files a workflow names from a volume",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(args.comfy_dir))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import torch  # noqa: E402 (after argparse, so --help is instant)

    if not torch.cuda.is_available():
        from comfy.cli_args import args as comfy_args

        comfy_args.cpu = True  # as `main.py --cpu`: ComfyUI would otherwise look for CUDA
    import architectures

    device = "cuda" if torch.cuda.is_available() else "cpu"
    manifest = json.loads(args.manifest.read_text())
    app = next((a for a in manifest["apps"] if a["id"] == args.app), None)
    if app is None:
        sys.exit(
            f"generate.py: no app {args.app!r} in {args.manifest}: expected one of {[a['id'] for a in manifest['apps']]}"
        )
    files = [m for m in app["models"] if m["kind"] != "volume"]
    if args.only is not None:
        unknown = sorted(set(args.only) - {m["filename"] for m in files})
        if unknown:
            sys.exit(
                f"generate.py: {unknown} not declared by app {args.app}: expected some of {sorted(m['filename'] for m in files)}"
            )
        files = [m for m in files if m["filename"] in args.only]
    for spec in args.lora:
        target, _, base = spec.partition("=")
        if f"lora:{base}" not in architectures.BUILDERS:
            sys.exit(
                f"generate.py: --lora {spec}: expected PATH=ARCH with ARCH one of {sorted(k[5:] for k in architectures.BUILDERS if k.startswith('lora:'))}"
            )
        folder, name = target.split("/", 1)
        architectures.FILES[name] = f"lora:{base}"
        files.append({"target": folder, "filename": name, "constructPath": f"--lora {spec}", "sizeGb": None})
    refused = [m for m in files if m["filename"] not in architectures.FILES]
    for m in refused:
        print(
            f"refused: {m['target']}/{m['filename']} ({m['constructPath']}): no builder for its architecture in test/weights/architectures.py",
            file=sys.stderr,
        )
    done = {}  # architecture → the file generated for it
    report = []
    for m in (m for m in files if m["filename"] in architectures.FILES):
        arch = architectures.FILES[m["filename"]]
        path = args.out / m["target"] / m["filename"]
        sidecar = path.with_name(path.name + ".random-weights.json")
        stamp = {"architecture": arch, "seed": SEED, "version": FORMAT_VERSION}
        started = time.monotonic()
        if args.check_only:
            state = architectures.BUILDERS[arch]()
            architectures.check(arch, state)
            size_gb = sum(t.numel() * t.element_size() for t in state.values()) / 1e9
            how = "checked"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and sidecar.exists() and json.loads(sidecar.read_text()) == stamp:
                how = "kept"
            elif arch in done:
                path.unlink(missing_ok=True)
                os.link(done[arch], path)
                how = f"linked to {done[arch].name}"
            else:
                state = architectures.BUILDERS[arch]()
                architectures.check(arch, state)
                need = sum(t.numel() * t.element_size() for t in state.values())
                free = shutil.disk_usage(path.parent).free
                if free < need + DISK_MARGIN_BYTES:
                    sys.exit(
                        f"generate.py: {path} needs {need / 1e9:.1f} GB (+{DISK_MARGIN_BYTES / 1e9:.0f} GB margin), "
                        f"but only {free / 1e9:.1f} GB is free on its disk: free some space (old clones, .cache/) and run again"
                    )
                partial = path.with_name(path.name + ".partial")
                write_safetensors(
                    partial, state, {"modal-cdk": f"random weights ({arch}, seed {SEED}): not a real model"}, device
                )
                os.replace(partial, path)
                how = "generated"
            sidecar.write_text(json.dumps(stamp))
            done.setdefault(arch, path)
            size_gb = path.stat().st_size / 1e9
        declared = m.get("sizeGb")
        off = None if not declared else (size_gb - declared) / declared
        note = (
            ""
            if off is None or abs(off) <= 0.10
            else f"  <- {off:+.0%} against the stack's sizeGb {declared}: check the stack's figure (or this layout's dtypes)"
        )
        report.append(
            {
                "file": f"{m['target']}/{m['filename']}",
                "architecture": arch,
                "sizeGb": round(size_gb, 3),
                "declaredGb": declared,
                "how": how,
            }
        )
        print(
            f"{how}: {m['target']}/{m['filename']} ({arch}, {size_gb:.3f} GB, declared {declared} GB) in {time.monotonic() - started:.0f} s{note}",
            flush=True,
        )
    print(json.dumps({"app": args.app, "files": report, "refused": [m["filename"] for m in refused]}))
    if args.only is not None and refused:
        sys.exit(1)


if __name__ == "__main__":
    main()

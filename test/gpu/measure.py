"""GPU fit and latency of endpoints, measured by executing their synthesized API workflows with ComfyUI's own
node classes on random-weight models (test/weights/generate.py). Run by hand on a GPU machine (CI has
none); prints one JSON object (and writes it with --out):

    python3 test/gpu/measure.py --comfy <ComfyUI dir> --manifest synth.out/manifest.json --app instantid \
        --endpoints /sdxl-turbo /sdxl-lightning --models <models dir> [--out result.json]

Each endpoint's models are loaded fresh (the loader cache is cleared and the GPU emptied between endpoints)
and it is measured at its default request (its fields' defaults, a new seed per call, since an identical
prompt is served from ComfyUI's cache; images a graph loads are made up at 1024×1024, videos as 16 frames
at the graph's size); with --out, the
file is updated after each endpoint and earlier endpoints in it are kept (a batch resumes):
  loadSeconds         the loader nodes (file → model objects)
  firstSeconds        the whole first request, loaders included (a cold container's first request)
  warmSeconds         the second request, loaders cached (a warm container)
  peakGpuMemoryGb     torch.cuda.max_memory_allocated over both requests, in GB (1e9 bytes)
With --warmup, the models are then let go and the app's warm-up (ComfyApp warmup: the manifest's values for
the endpoint, its smallest size) runs first, as a container runs it before its first request:
  warmupSeconds            the warm-up request, loaders included (part of the container's start)
  firstAfterWarmupSeconds  the first default request after it (what the first user waits)
  warmAfterWarmupSeconds   the second one
and `readySeconds` (top level) is the process's start until ComfyUI's node code is imported and CUDA is up.
With --fp8, each UNETLoader loads as fp8 (weight_dtype fp8_e4m3fn_fast: Endpoint fp8DiffusionModel) and the
figures go under the endpoint's "fp8" key, beside the ones measured before without it.
The nodes run in the graph's order through a small executor here, not ComfyUI's server (whose imports
need packages the GPU machine lacks): what runs on the GPU is the same node code.
"""

import argparse
import re
import importlib.machinery
import json
import sys
import time
import types
from pathlib import Path


class _Anything:
    """Stand-in for PyAV's objects: ComfyUI's video types name them at import; the SDXL graphs never call them."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return _Anything

    def __call__(self, *args, **kwargs):
        return _Anything()


class _StubFinder:
    """Imports of `av` and `av.*` get modules whose every attribute is a stand-in (when PyAV is absent)."""

    def find_spec(self, name, path=None, target=None):
        if name == "av" or name.startswith("av."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda attr: _Anything
        return module

    def exec_module(self, module):
        pass


def order(graph):
    """Node ids so that each node comes after the nodes it links from."""
    done, out = set(), []

    def visit(node_id):
        if node_id in done:
            return
        done.add(node_id)
        for value in graph[node_id]["inputs"].values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                visit(value[0])
        out.append(node_id)

    for node_id in graph:
        visit(node_id)
    return out


def run_node(cls, inputs):
    """One node's outputs as a tuple: V3 (io.ComfyNode) classes through execute, V1 through their FUNCTION."""
    import asyncio
    import inspect

    if hasattr(cls, "PREPARE_CLASS_CLONE"):
        # A clone with its hidden inputs (unique_id, prompt, …) unset, as ComfyUI's executor prepares one per
        # call: V3 nodes such as 0.10.0's GetImageSize read cls.hidden. (V3 classes also have a V1 FUNCTION.)
        output = cls.PREPARE_CLASS_CLONE(None).execute(**inputs)
        output = asyncio.run(output) if inspect.iscoroutine(output) else output
        return output.args
    result = getattr(cls(), cls.FUNCTION)(**inputs)
    result = asyncio.run(result) if inspect.iscoroutine(result) else result
    return result.get("result", ()) if isinstance(result, dict) else result


def node_classes(comfy_dir):
    """Every node class of ComfyUI's core (nodes.py) and of its comfy_extras modules that import here."""
    import asyncio
    import importlib

    import nodes

    classes = dict(nodes.NODE_CLASS_MAPPINGS)
    for path in sorted((comfy_dir / "comfy_extras").glob("nodes_*.py")):
        try:
            module = importlib.import_module(f"comfy_extras.{path.stem}")
        except Exception:  # noqa: BLE001 (a module whose imports are missing here: its nodes are not needed)
            continue
        classes.update(getattr(module, "NODE_CLASS_MAPPINGS", {}))
        if hasattr(module, "comfy_entrypoint"):
            try:
                extension = asyncio.run(module.comfy_entrypoint())
                for cls in asyncio.run(extension.get_node_list()):
                    classes.setdefault(cls.define_schema().node_id, cls)
            except Exception:  # noqa: BLE001
                continue
    return classes


def input_files(graph, input_dir, width=1024, height=1024):
    """The images the graph's LoadImage/LoadImageMask literals name, made up (a gradient; a half mask)."""
    from PIL import Image

    for node in graph.values():
        name = node["inputs"].get("image") if node["class_type"] in ("LoadImage", "LoadImageMask") else None
        if isinstance(name, str) and not (input_dir / name).exists():
            image = Image.new("RGB", (width, height))
            image.putdata([(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)])
            if node["class_type"] == "LoadImageMask":
                image = Image.new("RGB", (width, height), (0, 0, 0))
                image.paste((255, 255, 255), (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
            image.save(input_dir / name)


def execute(graph, classes, cache, loaders):
    """Runs `graph`; outputs of loader nodes are kept in `cache` across calls (as ComfyUI caches them)."""
    outputs = {}
    load_seconds = 0.0
    for node_id in order(graph):
        node = graph[node_id]
        inputs = {
            k: (outputs[v[0]][v[1]] if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) else v)
            for k, v in node["inputs"].items()
        }
        key = (node["class_type"], json.dumps(node["inputs"], sort_keys=True))
        if node["class_type"] in loaders and key in cache:
            outputs[node_id] = cache[key]
            continue
        if node["class_type"] == "LoadVideo":  # made up, as input images are (PyAV, which reads files, is absent)
            outputs[node_id] = (made_up_video(graph),)
            continue
        started = time.monotonic()
        outputs[node_id] = run_node(classes[node["class_type"]], inputs)
        if node["class_type"] in loaders:
            cache[key] = outputs[node_id]
            load_seconds += time.monotonic() - started
    return load_seconds


def made_up_video(graph, frames=16):
    """A video input of `frames` gradient frames at the graph's width × height (else 1024²), 16 fps."""
    from fractions import Fraction

    import torch
    from comfy_api.latest._input_impl.video_types import VideoFromComponents
    from comfy_api.latest._util.video_types import VideoComponents

    size = next(
        (
            n["inputs"]
            for n in graph.values()
            if isinstance(n["inputs"].get("width"), int) and isinstance(n["inputs"].get("height"), int)
        ),
        {},
    )
    width, height = size.get("width", 1024), size.get("height", 1024)
    ramp = torch.linspace(0, 1, width).expand(frames, height, width)
    images = torch.stack([ramp, ramp.flip(-1), torch.full_like(ramp, 0.5)], dim=-1)
    return VideoFromComponents(VideoComponents(images=images, frame_rate=Fraction(16)))


def default_graph(app_dir, endpoint, seed, values=None, fp8=False):
    """The endpoint's graph with its fields' defaults set (or `values`: the warm-up's), and `seed` in each
    seed field's inputs."""
    graph = json.loads((app_dir / endpoint["workflow"]).read_text())
    if fp8:  # --fp8: every UNETLoader loads as fp8 (Endpoint fp8DiffusionModel)
        for node in graph.values():
            if node["class_type"] == "UNETLoader":
                node["inputs"]["weight_dtype"] = "fp8_e4m3fn_fast"
    for field in endpoint["fields"]:
        value = seed if field["type"] == "seed" else (values or {}).get(field["name"], field.get("default"))
        if value is None or field["type"] in ("image", "video") or field.get("format") or field.get("map"):
            continue
        for target in field["targets"]:
            graph[target["node"]]["inputs"][target["input"]] = value
    return graph


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comfy", required=True, type=Path)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--app", required=True)
    parser.add_argument("--endpoints", nargs="+", required=True)
    parser.add_argument("--models", required=True, type=Path, help="models dir (<models>/<folder>/<file>)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--warmup", action="store_true", help="also measure the warm-up path (see above)")
    parser.add_argument("--fp8", action="store_true", help='UNETLoaders load as fp8; figures under "fp8"')
    args = parser.parse_args()
    started = time.monotonic()

    try:
        import av  # noqa: F401
    except ImportError:
        sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, str(args.comfy))
    sys.argv = ["main.py"]
    # ComfyUI's own `utils` package first, as main.py imports it: comfy/ later shadows the name.
    import utils.install_util  # noqa: F401
    import torch

    from comfy.cli_args import args as comfy_args

    if not torch.cuda.is_available():
        comfy_args.cpu = True
    import folder_paths

    for folder in ("checkpoints", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision"):
        folder_paths.add_model_folder_path(folder, str(args.models / folder), is_default=True)
    folder_paths.set_output_directory("/tmp/measure-output")
    input_dir = Path("/tmp/measure-input")
    input_dir.mkdir(exist_ok=True)
    folder_paths.set_input_directory(str(input_dir))

    classes = node_classes(args.comfy)
    if torch.cuda.is_available():
        torch.zeros(1, device="cuda")  # CUDA's context, as ComfyUI's start makes it
    age = _process_age()
    ready = round(age if age is not None else time.monotonic() - started, 2)
    loaders = {
        "CheckpointLoaderSimple",
        "CLIPLoader",
        "DualCLIPLoader",
        "VAELoader",
        "UNETLoader",
        "LoraLoader",
        "LoraLoaderModelOnly",
    }

    manifest = json.loads(args.manifest.read_text())
    app = next(a for a in manifest["apps"] if a["id"] == args.app)
    app_dir = args.manifest.parent / "apps" / app["id"]
    earlier = json.loads(args.out.read_text()) if args.out and args.out.exists() else {}
    results, failures = earlier.get("endpoints", {}), earlier.get("failures", {})
    for path in args.endpoints:
        endpoint = next(e for e in app["endpoints"] if e["path"] == path)
        before = results.pop(path, None)
        failures.pop(path, None)
        try:
            if args.fp8:
                fp8 = measure(endpoint, app, app_dir, classes, loaders, input_dir, fp8=True)
                results[path] = {**(before or {}), "fp8": fp8}
            else:
                results[path] = measure(endpoint, app, app_dir, classes, loaders, input_dir)
                if args.warmup:
                    results[path].update(measure_warmup(endpoint, app, app_dir, classes, loaders, input_dir))
        except Exception as e:  # noqa: BLE001 (one endpoint's failure is recorded; the others still run)
            failures[path] = {"app": app["id"], "error": f"{type(e).__name__}: {e}"[:500]}
        print(json.dumps({path: results.get(path) or failures[path]}), flush=True)
        if args.out:
            args.out.write_text(json.dumps(report(results, failures, ready), indent=2) + "\n")
    print(json.dumps(report(results, failures, ready)))


def measure(endpoint, app, app_dir, classes, loaders, input_dir, fp8=False):
    """Two requests of one endpoint in this process, its models loaded fresh; the figures of the docstring."""
    import comfy.model_management
    import torch

    cache = {}
    comfy.model_management.unload_all_models()
    comfy.model_management.soft_empty_cache()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    timings = []
    for seed in (1, 2):
        graph = default_graph(app_dir, endpoint, seed, fp8=fp8)
        input_files(graph, input_dir)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        started = time.monotonic()
        with torch.inference_mode():  # as ComfyUI's executor runs nodes
            load = execute(graph, classes, cache, loaders)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        timings.append((time.monotonic() - started, load))
    size = next(
        (
            n["inputs"]
            for n in graph.values()
            if "width" in n["inputs"] and "height" in n["inputs"] and not isinstance(n["inputs"]["width"], list)
        ),
        {},
    )
    return {
        "app": app["id"],
        "gpu": app["gpu"],
        "width": size.get("width"),
        "height": size.get("height"),
        **({"frames": size["length"]} if isinstance(size.get("length"), int) else {}),
        "loadSeconds": round(timings[0][1], 2),
        "firstSeconds": round(timings[0][0], 2),
        "warmSeconds": round(timings[1][0], 2),
        "peakGpuMemoryGb": round(torch.cuda.max_memory_allocated() / 1e9, 2) if torch.cuda.is_available() else None,
    }


def measure_warmup(endpoint, app, app_dir, classes, loaders, input_dir):
    """The models let go, then the app's warm-up request, then two default requests: the figures above."""
    import comfy.model_management
    import torch

    step = next((s for s in app.get("warmup", []) if s["path"] == endpoint["path"]), None)
    planned = step is not None
    if step is None:  # the app's plan left it out (GPU fit): its size fields at their minimum, as the plan would
        sizes = re.compile(
            r"^(width|height|steps|length|frames|num_frames|batch_size|batch|duration|upscale_by)$", re.I
        )
        step = {
            "values": {
                f["name"]: f["min"]
                for f in endpoint["fields"]
                if f["type"] == "int" and "min" in f and sizes.match(f["name"])
            }
        }
    cache = {}
    comfy.model_management.unload_all_models()
    comfy.model_management.soft_empty_cache()
    timings = []
    for seed, values in ((0, step["values"]), (1, None), (2, None)):
        graph = default_graph(app_dir, endpoint, seed, values)
        input_files(graph, input_dir)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        started = time.monotonic()
        with torch.inference_mode():
            execute(graph, classes, cache, loaders)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        timings.append(round(time.monotonic() - started, 2))
    return {
        "warmupSeconds": timings[0],
        "firstAfterWarmupSeconds": timings[1],
        "warmAfterWarmupSeconds": timings[2],
        **({} if planned else {"warmupPlanned": False}),
    }


def _process_age():
    """Seconds since this process started (Linux /proc), else None."""
    try:
        import os

        ticks = int(open(f"/proc/{os.getpid()}/stat").read().rsplit(")", 1)[1].split()[19])
        return float(open("/proc/uptime").read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def report(results, failures, ready=None):
    import comfyui_version
    import torch

    return {
        **({"readySeconds": ready} if ready is not None else {}),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "driver": _driver(),
        "torch": torch.__version__,
        "comfyui": comfyui_version.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "endpoints": dict(sorted(results.items())),
        "failures": dict(sorted(failures.items())),
    }


def _driver():
    try:
        import subprocess

        return (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
            or None
        )
    except OSError:
        return None


if __name__ == "__main__":
    main()

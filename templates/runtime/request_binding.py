"""Binding a request into an endpoint's workflow, for modal-cdk's runner (comfy_runtime.ComfyRunner): the
request's values set into the graph's node inputs (presets, formats, clamps, suffixes, maps), its image and
video files saved into ComfyUI's input folder, and the model files it names checked before queueing. A
mixin: ComfyRunner's __init__ sets the attributes it reads.
"""

import copy
import json
import random
import sys
import urllib.error
import urllib.parse

from request_files import (
    DATA_URL_EXTENSIONS,
    ComfyError,
    check_media,
    decode_inline_file,
)

SEED_MAX = 0xFFFFFFFFFFFFFFFF


class RequestBinder:
    """An endpoint's workflow with a request's values in it."""

    def workflow(self, name):
        if name not in self._workflows:
            self._workflows[name] = json.loads((self.workflows_dir / name).read_text())
        return self._workflows[name]

    def bind(self, spec, values, request_id, inputs=None, job=None):
        """The endpoint's graph with the request's values set; returns (graph, seed used, input files).
        `inputs`: a list the saved input files are added to as they are saved, so that a request refused
        half-way (its second image) still has its first one deleted."""
        graph = copy.deepcopy(self.workflow(spec["workflow"]))
        values = request_values(spec["fields"], values)
        seed = None
        inputs = [] if inputs is None else inputs
        for field in spec["fields"]:
            value = values.get(field["name"])
            if field["type"] == "seed" and value is None:
                value = random.randint(field.get("random_min", 0), field.get("random_max", SEED_MAX))
            if value is None or not field["targets"]:
                continue
            if field["type"] == "seed":
                seed = value
            if "format" in field:
                value = field["format"].format_map(FormatValues(values)).strip()
            if "clamp" in field:
                value = min(max(value, field["clamp"][0]), field["clamp"][1])
            if isinstance(value, list):
                value = value[0]
            suffix = field.get("ensure_suffix")
            if suffix and not value.endswith(suffix):
                value += suffix
            if field["type"] in ("image", "video"):
                path = self.save_input_file(value, field, request_id, job)
                inputs.append(path)
                value = path.name
            value = field.get("map", {}).get(json_text(value), value)
            for node, name in field["targets"]:
                graph[node]["inputs"][name] = value
        for node_id, node in graph.items():
            if "filename_prefix" in node["inputs"]:
                node["inputs"]["filename_prefix"] = f"mcdk_{request_id}_{node_id}"
        return graph, seed, inputs

    def save_input_file(self, value, field, request_id, job=None):
        """Save a request's image or video (base64, a data URL or an https URL) into ComfyUI's input dir
        under a unique name. A URL is fetched within the request's deadline and stops when its client goes."""
        name, kind, max_bytes = field["name"], field["type"], field["max_bytes"]
        if self.comfy_dir is None:
            raise ComfyError(
                501,
                {
                    "field": name,
                    "message": f"{name}: this server does not know ComfyUI's directory, so it cannot pass a {kind} to it (local serve: give --comfy-dir)",
                },
            )
        if value[:6].lower() in ("https:", "http:/"):  # schemes are case-insensitive (RFC 3986 §3.1)
            data, media_type = self.url_policy.fetch(
                value,
                name,
                kind,
                max_bytes,
                deadline=job.deadline if job else None,
                cancelled=(lambda: job.cancelled) if job else None,
            )
            extension = DATA_URL_EXTENSIONS[media_type]
        else:
            data, extension = decode_inline_file(value, name, kind, max_bytes)
        check_media(data, field)
        path = self.comfy_dir / "input" / f"mcdk_{request_id}_{name}{extension}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def check_model_files(self, spec, values, graph):
        """422 naming the file when a sent field names a model file ComfyUI does not list (a LoRA not
        trained yet), before a prompt is queued. Volumes are reloaded first, so a file committed since the
        container started counts; a reload that fails (files open) leaves the view as it was."""
        checks = {}  # node input → (field, folder); a later field setting the same input wins, as in bind
        for field in spec["fields"]:
            if "model_folder" in field and values.get(field["name"]) is not None and field["targets"]:
                checks[tuple(field["targets"][0])] = field
        if not checks:
            return
        if self.reload_volumes is not None:
            try:
                self.reload_volumes()
            except Exception as e:  # noqa: BLE001 - Modal raises plain errors for open files
                print(f"volume reload failed, looking files up as they are: {e}", file=sys.stderr)
        listed = {}
        for (node, name), field in sorted(checks.items()):
            folder = field["model_folder"]
            if folder not in listed:
                try:
                    listed[folder] = set(self._get(f"/models/{urllib.parse.quote(folder)}"))
                except urllib.error.HTTPError as e:
                    raise ComfyError(
                        500,
                        {
                            "field": field["name"],
                            "message": f"ComfyUI has no models folder {folder!r} (HTTP {e.code}): fix the field's modelFolder",
                        },
                    ) from e
            value = graph[node]["inputs"][name]
            if value not in listed[folder]:
                sent = values.get(field["name"])
                looked_up = "" if sent == value else f" (looked up as {value!r})"
                raise ComfyError(
                    422,
                    {
                        "field": field["name"],
                        "message": f"{field['name']}: no file {sent!r}{looked_up} in ComfyUI's {folder} folder (the app's volume): upload or train it first",
                    },
                )


class FormatValues(dict):
    """Request values for a field's format string: a field left out formats as an empty string."""

    def __missing__(self, key):
        return ""


def request_values(fields, values):
    """The request's values after presets (an aspect ratio setting width and height). An empty string that
    means "left out" (defaultWhenEmpty) was already replaced by the field's default in the request model."""
    values = dict(values)
    for field in fields:
        chosen = values.get(field["name"])
        if chosen is not None and "presets" in field:
            values.update(field["presets"].get(chosen, {}))
    return FormatValues({k: v for k, v in values.items() if v is not None})


def json_text(value):
    """A value as the JSON text that keys a field's map (`true`, `GPU`, `3`)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)

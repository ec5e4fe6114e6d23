"""Every RYLA workflow is accepted by a real ComfyUI's /prompt validation, on exactly the ComfyUI release its
app pins (0.3.67, 0.3.71, 0.10.0: the trees test/comfyui/setup.sh extracts), as a minimal request binds it,
with a zero-byte placeholder for each model file its app declares (and for the LoRA the request names);
deliberately broken copies are refused naming the node. The custom-node classes come from a stand-in
package of ours (test/comfyui/standin_nodes) that registers them from the stack's node schemas
(bin/ryla/nodes), since the packs cannot be installed here. Validation checks node types, links, value
ranges and that every named file is listed, so a workflow that names a model its app does not ship, or a
binding that writes a value out of ComfyUI's range, fails here, without GPUs or weights. The example stack
(bin/example.ts) is checked the same way, its default app on 0.28.2."""

import copy
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import ROOT, comfy_tree, install_standin_nodes, load_module, placeholder, start_comfyui
from fastapi.testclient import TestClient

sys.path.insert(0, str(ROOT / "test" / "python"))
from test_request_models import minimal_body

SYNTH_OUT = Path(os.environ["RYLA_SYNTH_OUT"])  # `npm run synth`'s stack, synthesized by run.sh
MANIFEST = json.loads((SYNTH_OUT / "manifest.json").read_text())
ENDPOINTS = {e["path"]: (a, e) for a in MANIFEST["apps"] for e in a["endpoints"]}
EXAMPLE_OUT = Path(os.environ["EXAMPLE_SYNTH_OUT"])  # bin/example.ts, synthesized by run.sh
EXAMPLE = json.loads((EXAMPLE_OUT / "manifest.json").read_text())
# A volume model with one of these suffixes is one file (the example's style LoRA); without, a folder.
MODEL_SUFFIXES = {".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".onnx", ".gguf"}

# The node schemas of the RYLA packs (CustomNode nodeSchemas), which the stand-in package registers.
PACK_SCHEMAS = sorted(p for p in (ROOT / "bin" / "ryla" / "nodes").glob("*.json") if not p.name.startswith("comfyui-"))
# The RYLA endpoints whose workflows need custom nodes (InstantID, PuLID, XLabs IP-Adapter, ReActor +
# VideoHelperSuite, RES4LYF, SeedVR2); the others use only core nodes.
CUSTOM = ["/sdxl-instantid", "/flux-pulid", "/flux-ipadapter-faceid", "/video-faceswap", "/z-image-danrisi", "/seedvr2"]
CORE_ONLY = [
    "/flux",
    "/flux-dev",
    "/flux-dev-lora",
    "/sdxl-turbo",
    "/sdxl-lightning",
    "/qwen-image-2512",
    "/qwen-image-2512-fast",
    "/qwen-image-2512-lora",
    "/qwen-image-edit-2511",
    "/qwen-image-inpaint-2511",
    "/z-image-simple",
    "/z-image-lora",
    "/wan2.6",
    "/wan2.6-r2v",
    "/wan2.6-lora",
]


class Capture:
    """Stands in for the runner behind the generated FastAPI app: keeps the validated request values."""

    async def handle(self, spec, values, request):
        self.values = values
        return {}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """release → a real ComfyUI of that release with the stacks' placeholders and the stand-in packs,
    started on first use and kept for the module."""
    started = {}

    def server(release):
        if release not in started:
            base = tmp_path_factory.mktemp(f"ryla-base-{release}")
            for app in MANIFEST["apps"] + EXAMPLE["apps"]:
                for model in app["models"]:
                    if model["kind"] == "hf" or Path(model["filename"]).suffix in MODEL_SUFFIXES:
                        placeholder(base, model["target"], model["filename"])
                    else:  # a volume folder (LoRAs); the files a request names are made by the test
                        (base / "models" / model["target"] / model["filename"]).mkdir(parents=True, exist_ok=True)
            standin = install_standin_nodes(base, PACK_SCHEMAS)
            process, url = start_comfyui(base, custom_nodes=True, tree=comfy_tree(release))
            runtime = load_module(
                SYNTH_OUT / "apps" / MANIFEST["apps"][0]["id"] / "comfy_runtime.py", "comfy_runtime_ryla"
            )
            object_info = runtime.ComfyRunner(base, None, ".", url=url)._get("/object_info")
            standins = {c for c, e in object_info.items() if e["python_module"] == "custom_nodes.mcdk_standin"}
            version = runtime.ComfyRunner(base, None, ".", url=url)._get("/system_stats")["system"]["comfyui_version"]
            started[release] = {
                "process": process,
                "release": version,
                "base": base,
                "url": url,
                "runtime": runtime,
                "core": set(object_info) - standins,
                "standins": standins,
                "declared": set(standin["nodes"]),
            }
        return started[release]

    yield server
    for comfy in started.values():
        comfy["process"].kill()


@pytest.fixture
def comfy(servers, request):
    """The ComfyUI of the release the endpoint's app pins (the test's `path` parameter; else /flux's)."""
    callspec = getattr(request.node, "callspec", None)
    path = callspec.params.get("path", "/flux") if callspec else "/flux"
    return servers(endpoint_of(path)[0]["comfyVersion"])


def endpoint_of(path):
    """(app, endpoint, synth.out folder) of a RYLA path, or of the example stack's as "example:/path"."""
    if path.startswith("example:"):
        app, endpoint = next((a, e) for a in EXAMPLE["apps"] for e in a["endpoints"] if e["path"] == path[8:])
        return app, endpoint, EXAMPLE_OUT
    return (*ENDPOINTS[path], SYNTH_OUT)


def bound_graph(comfy, path):
    """The endpoint's graph as a minimal valid request binds it, with the runner for its app."""
    app, endpoint, synth_out = endpoint_of(path)
    path = endpoint["path"]
    app_dir = synth_out / "apps" / app["id"]
    module = load_module(app_dir / "app.py", f"{synth_out.name}_{app['id'].replace('-', '_')}".replace(".", "_"))
    capture = Capture()
    response = TestClient(module.create_api(capture)).post(path, json=minimal_body(endpoint))
    assert response.status_code == 200, response.text
    runner = comfy["runtime"].ComfyRunner(comfy["base"], None, app_dir / "workflows", url=comfy["url"])
    spec = module.ENDPOINTS[path]
    graph, _, _ = runner.bind(spec, capture.values, request_id="ryla")
    for field in spec["fields"]:  # the LoRA the request names is in the volume
        if "model_folder" in field and capture.values.get(field["name"]) is not None:
            node, name = field["targets"][0]
            placeholder(comfy["base"], field["model_folder"], graph[node]["inputs"][name])
    runner.check_model_files(spec, capture.values, graph)
    return runner, graph


def classes_of(path):
    app, endpoint, synth_out = endpoint_of(path)
    return {
        n["class_type"]
        for n in json.loads((synth_out / "apps" / app["id"] / endpoint["workflow"]).read_text()).values()
    }


EXAMPLE_PATHS = [f"example:{e['path']}" for a in EXAMPLE["apps"] for e in a["endpoints"]]


def test_each_app_runs_its_own_release_the_lists_cover_all_21_endpoints_and_the_stand_in_registers_every_class(
    servers,
):
    assert sorted(CORE_ONLY + CUSTOM) == sorted(ENDPOINTS) and len(ENDPOINTS) == 21
    releases = {a["id"]: a["comfyVersion"] for a in MANIFEST["apps"]}
    assert sorted(set(releases.values())) == ["0.10.0", "0.3.67", "0.3.71"]
    assert {a["id"]: a["comfyVersion"] for a in EXAMPLE["apps"]}["flux"] == "0.28.2"
    for path in CORE_ONLY + CUSTOM:
        comfy = servers(ENDPOINTS[path][0]["comfyVersion"])
        assert comfy["release"] == ENDPOINTS[path][0]["comfyVersion"]  # the server says which release it is
        assert (classes_of(path) <= comfy["core"]) == (path in CORE_ONLY), path
        # Every custom class the workflows use is one the schemas declare and ComfyUI now lists.
        custom = classes_of(path) - comfy["core"]
        assert custom <= comfy["standins"] and comfy["standins"] == comfy["declared"] - comfy["core"], path


@pytest.mark.parametrize("path", CORE_ONLY + CUSTOM + EXAMPLE_PATHS)
def test_comfyui_of_the_apps_release_accepts_the_bound_workflow(comfy, path):
    assert comfy["release"] == endpoint_of(path)[0]["comfyVersion"]
    runner, graph = bound_graph(comfy, path)
    status, answer = runner._post("/prompt", {"prompt": graph, "client_id": "ryla-check"})
    assert status == 200 and not answer.get("node_errors"), json.dumps(answer)[:2000]
    runner.cancel_prompt(answer["prompt_id"])  # validation was the point; the placeholders cannot run


@pytest.mark.parametrize("path", CUSTOM)
def test_a_broken_copy_of_a_custom_node_workflow_is_refused_naming_the_node(comfy, path):
    """Each custom-node class used loses a required widget value in turn: ComfyUI names that node."""
    runner, graph = bound_graph(comfy, path)
    object_info = runner._get("/object_info")
    broken_any = False
    for node_id, node in sorted(graph.items()):
        if node["class_type"] not in comfy["standins"]:
            continue
        required = object_info[node["class_type"]]["input"]["required"]
        literal = next((k for k in required if k in node["inputs"] and not isinstance(node["inputs"][k], list)), None)
        if literal is None:
            continue
        broken = copy.deepcopy(graph)
        del broken[node_id]["inputs"][literal]
        with pytest.raises(comfy["runtime"].ComfyError) as error:
            runner.queue_and_wait(broken, "ryla-check", 30)
        assert error.value.status == 422
        assert (node_id, node["class_type"]) in [
            (e["node_id"], e["class_type"]) for e in error.value.detail["node_errors"]
        ]
        assert literal in json.dumps(error.value.detail)
        broken_any = True
    assert broken_any, f"{path}: no custom-node input to break"


def test_a_broken_copy_is_refused_naming_the_node(comfy):
    runner, graph = bound_graph(comfy, "/flux")
    loader = next(node_id for node_id, node in graph.items() if node["class_type"] == "CheckpointLoaderSimple")
    missing_model = copy.deepcopy(graph)
    missing_model[loader]["inputs"]["ckpt_name"] = "not-shipped.safetensors"
    with pytest.raises(comfy["runtime"].ComfyError) as error:
        runner.queue_and_wait(missing_model, "ryla-check", 30)
    assert error.value.status == 422
    assert [(e["node_id"], e["class_type"]) for e in error.value.detail["node_errors"]] == [
        (loader, "CheckpointLoaderSimple")
    ]
    assert "not-shipped.safetensors" in json.dumps(error.value.detail)

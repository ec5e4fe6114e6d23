"""`modal-cdk import` on real workflows: the UI files of comfyui-workflow-templates 0.7.25 (its pinned media
packages in .venv-comfy). Every template made only of core nodes (classes of the ComfyUI 0.3.75 snapshot)
whose loaders all have `models` entries is imported into one `modal-cdk init` project; `synth` then gives no
error, and each endpoint's request, bound from its suggested defaults (a minimal valid body), passes the real
ComfyUI's /prompt validation with a zero-byte placeholder for every model file the apps declare. Each
template that does not make it is named here with the reason."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT, load_module, placeholder, start_comfyui
from fastapi.testclient import TestClient

sys.path.insert(0, str(ROOT / "test" / "python"))
from test_request_models import minimal_body

SITE = next((ROOT / ".venv-comfy" / "lib").glob("python3*/site-packages"))
SNAPSHOT = json.loads((ROOT / "lib" / "comfy" / "object-info" / "comfyui-0.3.75.json").read_text())
VIRTUAL = {"Reroute", "PrimitiveNode", "Note", "MarkdownNote"}
MODEL_FILE = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".onnx")


def ui_templates():
    """Name → file of every UI-format template; a name the packages hold twice ("x .json") is taken once."""
    found = {}
    for path in sorted(SITE.glob("comfyui_workflow_templates_media_*/templates/*.json")):
        value = json.loads(path.read_text())
        if isinstance(value, dict) and isinstance(value.get("nodes"), list):
            found.setdefault(path.stem.strip(), path)
    return found


def nodes_of(ui):
    subgraphs = (ui.get("definitions") or {}).get("subgraphs", [])
    ids = {s["id"] for s in subgraphs}
    nodes = ui["nodes"] + [n for s in subgraphs for n in s.get("nodes", [])]
    return [n for n in nodes if n["type"] not in VIRTUAL and n["type"] not in ids]


def in_the_corpus(ui):
    """Only core classes, and every model file a loader names has a `models` entry (by name)."""
    nodes = nodes_of(ui)
    if not all(n["type"] in SNAPSHOT["nodes"] for n in nodes):
        return False
    entries = {m.get("name") for m in ui.get("models", [])}
    for n in nodes:
        entries |= {m.get("name") for m in (n.get("properties") or {}).get("models", []) if isinstance(m, dict)}
    for n in nodes:
        if n["type"] not in SNAPSHOT["modelInputs"] or not isinstance(n.get("widgets_values"), list):
            continue
        for value in n["widgets_values"]:
            if isinstance(value, str) and value.lower().endswith(MODEL_FILE) and value.split("/")[-1] not in entries:
                return False
    return True


TEMPLATES = ui_templates()
CORPUS = sorted(name for name, path in TEMPLATES.items() if in_the_corpus(json.loads(path.read_text())))

# The templates of the corpus that import refuses, and why. Partner-API nodes saved by a newer editor than
# 0.3.75 with more or fewer widgets import when each value fits the widget it lands on (dropped or defaulted
# as the 0.3.75 editor does, with a note); these two do not: a value lands on a widget whose bounds refuse
# it (a seed's "randomize" in `steps`). Import never guesses. (api_stability_ai_audio_to_audio imports since
# the check, as ComfyUI's /prompt, leaves alone a node no output needs: its RecordAudio feeds nothing.)
REFUSED = {
    "api_moonvalley_video_to_video_motion_transfer": 'node 38 (MoonvalleyVideo2VideoNode) input steps: got "randomize"',
    "api_moonvalley_video_to_video_pose_control": "node 36 (MoonvalleyVideo2VideoNode) input steps: got 146344522",
}


def cli(cwd, *args):
    return subprocess.run(
        ["node", str(ROOT / "bin" / "modal-cdk.js"), *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def init_project(tmp_path_factory, name):
    """A `modal-cdk init` project whose `modal-cdk` resolves to this checkout's constructs."""
    project = tmp_path_factory.mktemp(name)
    assert cli(project, "init", "--name", "corpus").returncode == 0
    shim = project / "node_modules" / "modal-cdk"
    shim.mkdir(parents=True)
    (shim / "package.json").write_text('{ "name": "modal-cdk", "main": "index.js" }\n')
    (shim / "index.js").write_text(f"module.exports = require({json.dumps(str(ROOT / 'constructs' / 'index.ts'))});\n")
    return project


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """An init project (modal-cdk resolving to this checkout) with every corpus template imported, synthesized."""
    project = init_project(tmp_path_factory, "import-corpus")
    results = {}
    for i, name in enumerate(CORPUS):
        # 0.7.25's templates were saved for ComfyUI 0.3.75: the apps run that release. Its partner-API
        # templates are allowed (--partner-nodes): this corpus is about converting and binding them.
        results[name] = cli(
            project,
            "import",
            TEMPLATES[name],
            "--app",
            f"t{i}",
            "--path",
            f"/{name}",
            "--comfy-version",
            "0.3.75",
            "--partner-nodes",
            "comfy-org",
        )
    synth = cli(project, "synth")
    manifest = json.loads((project / "synth.out" / "manifest.json").read_text()) if synth.returncode == 0 else None
    return {"project": project, "results": results, "synth": synth, "manifest": manifest}


def test_the_corpus_is_most_of_the_templates():
    # 0.7.25: 187 UI workflows (one file is there twice, "api_wan_text_to_image .json"); all but one
    # (video_wan2_2_14B_animate: KJNodes, controlnet_aux, SAM2) are core-only with every model's URL.
    assert len(TEMPLATES) == 187 and len(CORPUS) == 186, (len(TEMPLATES), len(CORPUS))
    assert sorted(set(TEMPLATES) - set(CORPUS)) == ["video_wan2_2_14B_animate"]


def test_every_corpus_template_imports_but_the_refused_ones(corpus):
    refused = {name: r.stderr for name, r in corpus["results"].items() if r.returncode != 0}
    assert sorted(refused) == sorted(REFUSED), {n: e[:300] for n, e in refused.items() if n not in REFUSED}
    for name, reason in REFUSED.items():
        assert reason in refused[name] and "nothing written" in refused[name], refused[name][:400]
    imported = len(CORPUS) - len(REFUSED)
    print(f"\nimport: {imported} of {len(CORPUS)} corpus templates imported, {len(REFUSED)} refused (explained)")


def test_synth_gives_no_error_for_all_of_them(corpus):
    synth = corpus["synth"]
    assert synth.returncode == 0, synth.stderr[-3000:]
    # The one app init wrote, and one per imported template.
    assert len(corpus["manifest"]["apps"]) == 1 + len(CORPUS) - len(REFUSED)
    warnings = [w for w in synth.stderr.splitlines() if "warning:" in w]
    # What synth warns about: unpinned revisions (the editor's URLs name a branch), and verify's smoke
    # request for a video input (no video can be made up) — nothing else.
    assert all("[ack: hf-unpinned-revision]" in w or "[ack: smoke-request]" in w for w in warnings), warnings


class Capture:
    async def handle(self, spec, values, request):
        self.values = values
        return {}


def imported_endpoints(corpus, prefix="t"):
    return [
        (app, endpoint)
        for app in (corpus["manifest"] or {"apps": []})["apps"]
        if app["id"].startswith(prefix)
        for endpoint in app["endpoints"]
    ]


@pytest.fixture(scope="module")
def comfy(corpus, tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus-base")
    for app in (corpus["manifest"] or {"apps": []})["apps"]:
        for model in app["models"]:
            placeholder(base, model["target"], model["filename"])
    process, url = start_comfyui(base)
    yield {"base": base, "url": url}
    process.kill()


def prompt_failures(out, endpoints, comfy, runtime, prefix, served=None):
    """Each endpoint's request bound from its suggested defaults, through the real ComfyUI's /prompt: (path →
    why it was refused, path → classes the server could not load when `served` names the classes it has)."""
    failed, unloadable = {}, {}
    for app, endpoint in endpoints:
        app_dir = out / "apps" / app["id"]
        module = load_module(app_dir / "app.py", f"{prefix}_{app['id'].replace('-', '_')}")
        capture = Capture()
        response = TestClient(module.create_api(capture)).post(endpoint["path"], json=minimal_body(endpoint))
        if response.status_code != 200:
            failed[endpoint["path"]] = f"request model: {response.status_code} {response.text[:300]}"
            continue
        runner = runtime.ComfyRunner(comfy["base"], None, app_dir / "workflows", url=comfy["url"])
        graph, _, _ = runner.bind(module.ENDPOINTS[endpoint["path"]], capture.values, request_id="corpus")
        missing = {n["class_type"] for n in graph.values()} - served if served is not None else set()
        if missing:  # classes the snapshot has but this server could not load
            unloadable[endpoint["path"]] = missing
            continue
        status, answer = runner._post("/prompt", {"prompt": graph, "client_id": "corpus"})
        if status != 200 or answer.get("node_errors"):
            failed[endpoint["path"]] = json.dumps(answer)[:2000]
        else:
            runner.cancel_prompt(answer["prompt_id"])  # validation was the point; the placeholders cannot run
    return failed, unloadable


def audio_literals(failed):
    """The refused endpoints whose LoadAudio names a file no request field can bring (import makes no audio field)."""
    return {
        p for p, answer in failed.items() if '"class_type": "LoadAudio"' in answer and "Invalid audio file" in answer
    }


def test_each_bound_request_passes_comfyuis_prompt_validation(corpus, comfy):
    out = corpus["project"] / "synth.out"
    runtime = load_module(out / "apps" / "t0" / "comfy_runtime.py", "comfy_runtime_corpus")
    served = set(runtime.ComfyRunner(comfy["base"], None, ".", url=comfy["url"])._get("/object_info"))
    endpoints = imported_endpoints(corpus)
    assert len(endpoints) == len(CORPUS) - len(REFUSED)
    failed, unloadable = prompt_failures(out, endpoints, comfy, runtime, "corpus", served)
    # torchaudio (test/comfyui/setup.sh) loads the audio nodes too, so every imported endpoint is validated.
    assert unloadable == {}, unloadable
    # Five templates load an audio file by name (LoadAudio's literal; api_stability_ai_audio_to_audio among
    # them): import makes no audio field (a TODO in the code), so no request can bring that file, and
    # LoadAudio's own check refuses the name. Everything else passes.
    audio = audio_literals(failed)
    print(
        f"\n/prompt validation: {len(endpoints) - len(failed)} of {len(endpoints)} imported endpoints accepted; {len(audio)} name an audio file no request field brings"
    )
    assert len(audio) == 5 and set(failed) == audio, json.dumps(failed, indent=1)

"""`modal-cdk import` on the workflows teams export today: the open-source UI templates of
comfyui-workflow-templates-json 0.1.123 (pinned in requirements-comfyui.txt; 259 templates whose index entry
is not `openSource: false`). Each one is imported into one `modal-cdk init` project with the defaults a new
user gets (no --app, --path or --comfy-version), and `synth` must pass for all that import; each refusal is
one of the messages that lead somewhere (a newer ComfyUI, a custom-node pack, a node saved by another
release, a value ComfyUI's own bounds refuse), never a crash. The bound default request of every imported
endpoint whose app runs 0.28.2 then passes a real ComfyUI 0.28.2's own /prompt validation."""

import collections
import json
import re

import pytest
from conftest import ROOT, comfy_tree, load_module, placeholder, start_comfyui
from test_import_templates import audio_literals, cli, imported_endpoints, init_project, prompt_failures

SITE = next((ROOT / ".venv-comfy" / "lib").glob("python3*/site-packages"))
FOLDER = SITE / "comfyui_workflow_templates_json" / "templates"
INDEX = json.loads((FOLDER / "index.json").read_text())
CORPUS = sorted(t["name"] for c in INDEX for t in c["templates"] if t.get("openSource") is not False)
SNAPSHOTS = [p.stem.removeprefix("comfyui-") for p in (ROOT / "lib" / "comfy" / "object-info").glob("comfyui-*.json")]

# Why a template is refused, by the first line of import's message: each says what would make it import.
CAUSES = {
    "needs a newer snapshot's release": r"needs ComfyUI ≥ \S+ \(the app runs",
    "core nodes newer than every snapshot": r"of ComfyUI itself \(cnr_id comfy-core",
    "custom-node pack": r"no node schemas for",
    "saved by a newer release": r"was saved by ComfyUI \S+ or later",
    "made by an older release with other widgets": r"was made by ComfyUI \S+ \(properties\.ver\), whose",
    "saved with another version of a node": r"saved with another version of the node",
    "an option a newer release added": r"an option of ComfyUI \S+ and later",
    "an option no release with schemas offers": r"no ComfyUI release modal-cdk has node schemas of \(.*\) offers it",
    "a value ComfyUI refuses": r"input \S+: got .*expected",
    # A link that brings nothing (a muted or bypassed source, a subgraph output connected to nothing inside):
    # the editor's own export lacks the input too, and ComfyUI refuses it (video_ltx2_i2v_lora as published).
    "an input the export leaves empty": r"empty in the export, because",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    project = init_project(tmp_path_factory, "import-corpus-0.1.123")
    results = {name: cli(project, "import", FOLDER / f"{name}.json") for name in CORPUS}
    synth = cli(project, "synth")
    manifest = json.loads((project / "synth.out" / "manifest.json").read_text()) if synth.returncode == 0 else None
    return {"project": project, "results": results, "synth": synth, "manifest": manifest}


def cause(stderr):
    first = next((line for line in stderr.splitlines()[1:] if line.strip()), stderr)
    return next((name for name, pattern in CAUSES.items() if re.search(pattern, first)), None)


def test_the_corpus_is_todays_template_package():
    assert len(CORPUS) == 259, len(CORPUS)


def test_every_template_imports_or_is_refused_with_a_message_that_leads_somewhere(corpus):
    refused = {name: r.stderr for name, r in corpus["results"].items() if r.returncode != 0}
    assert all(r.returncode in (0, 1) for r in corpus["results"].values())
    unexplained = {
        name: err[:400] for name, err in refused.items() if cause(err) is None or "nothing written" not in err
    }
    assert unexplained == {}
    counts = collections.Counter(cause(err) for err in refused.values())
    imported = len(CORPUS) - len(refused)
    print(f"\nimport 0.1.123: {imported} of {len(CORPUS)} imported; refused by cause: {dict(counts.most_common())}")
    # Measured at this commit (the closing note of issue 32 gives the split): a guard against regressions.
    assert imported >= 203, imported


def release(version):
    return tuple(int(part) for part in version.split("."))


def test_each_app_runs_at_least_the_release_its_template_index_asks_for(corpus):
    """Import reads the index beside the templates (index.json, `minComfyUIVersion`): an imported template's
    app runs that release or a newer one wherever modal-cdk has node schemas at or after it; a template that
    asks for a release newer than every snapshot is told so (a note naming it), imported or refused."""
    wanted = {t["name"]: t["minComfyUIVersion"] for c in INDEX for t in c["templates"] if t.get("minComfyUIVersion")}
    newest = max(SNAPSHOTS, key=release)
    below, told, beyond = [], 0, 0
    for name, result in corpus["results"].items():
        if name not in wanted:
            continue
        if release(wanted[name]) > release(newest):
            beyond += 1
            told += "gives minComfyUIVersion" in result.stdout + result.stderr
            continue
        if result.returncode != 0:
            continue
        app_file = re.search(r"wrote (bin/\S+\.ts)", result.stdout).group(1)
        pinned = re.search(r"comfyVersion: '([\d.]+)'", (corpus["project"] / app_file).read_text())
        runs = pinned.group(1) if pinned else newest
        if release(runs) < release(wanted[name]):
            below.append((name, runs, wanted[name]))
    print(f"\nminComfyUIVersion: {beyond} templates ask for a release newer than {newest}, {told} of them told so")
    assert below == []
    assert told == beyond > 0


def test_synth_passes_with_every_imported_template(corpus):
    assert corpus["synth"].returncode == 0, corpus["synth"].stderr[-3000:]
    imported = sum(1 for r in corpus["results"].values() if r.returncode == 0)
    assert len(corpus["manifest"]["apps"]) == 1 + imported
    # Each app id is its template's (or the next free one, said in import's output): none collides.
    ids = [a["id"] for a in corpus["manifest"]["apps"]]
    assert len(ids) == len(set(ids))


@pytest.fixture(scope="module")
def comfy(corpus, tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus-0.28.2-base")
    for app in (corpus["manifest"] or {"apps": []})["apps"]:
        for model in app["models"]:
            placeholder(base, model["target"], model["filename"])
    process, url = start_comfyui(base, tree=comfy_tree("0.28.2"))
    yield {"base": base, "url": url}
    process.kill()


def test_the_bound_requests_pass_comfyui_0_28_2s_prompt_validation(corpus, comfy):
    out = corpus["project"] / "synth.out"
    endpoints = [
        (a, e) for a, e in imported_endpoints(corpus, prefix="") if a["id"] != "sdxl"
    ]  # not the app init wrote
    on_it = [(a, e) for a, e in endpoints if a["comfyVersion"] == "0.28.2"]
    apart = len(endpoints) - len(on_it)  # apps pinned to an older release by their nodes' ver
    runtime = load_module(out / "apps" / on_it[0][0]["id"] / "comfy_runtime.py", "comfy_runtime_corpus_011")
    failed, _ = prompt_failures(out, on_it, comfy, runtime, "corpus011")
    print(
        f"\n/prompt on 0.28.2: {len(on_it) - len(failed)} of {len(on_it)} accepted ({apart} endpoints of apps pinned to an older release counted apart)"
    )
    # Seven templates load an audio file by name (LoadAudio's literal): import makes no audio field (a TODO in
    # the code), so no request brings that file and LoadAudio's own check refuses the name. The rest pass
    # (178 of 185 when this was written).
    audio = audio_literals(failed)
    assert len(audio) == 7 and set(failed) == audio, json.dumps(failed, indent=1)[:6000]

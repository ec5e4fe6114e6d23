"""`modal-cdk workflow convert` against the ComfyUI frontend's own Export (API): the 40 sampled UI workflows
of comfyui-workflow-templates 0.7.25 (the UI files come from its pinned media packages in .venv-comfy; the
frontend 1.32.9's exports of them are test/fixtures/comfy-ui/ui-twins-templates-0.7.25-sample.json). The
converter must give the same class_type and inputs for at least 95% of them; each other one is explained
here. Also `workflow check` on a converted file, and the CLI's errors."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

SAMPLE = json.loads((ROOT / "test" / "fixtures" / "comfy-ui" / "ui-twins-templates-0.7.25-sample.json").read_text())[
    "outputs"
]
SITE = next((ROOT / ".venv-comfy" / "lib").glob("python3*/site-packages"))
TEMPLATES = {p.stem: p for p in SITE.glob("comfyui_workflow_templates_media_*/templates/*.json")}
# The frontend that exported the sample had the RYLA packs loaded; the same schemas are given here.
PACKS = [
    arg
    for p in sorted((ROOT / "bin" / "ryla" / "nodes").glob("*.json"))
    if not p.name.startswith("comfyui-")
    for arg in ("--custom-nodes", str(p))
]
# The sample's one difference, explained. The server that made it could not import the audio nodes (no
# torchaudio), so the frontend exported these four without a class_type (and SaveAudioMP3's widget values
# under "UNKNOWN"). Our snapshot has them (dumped with an import-only torchaudio stand-in), so we give each
# its class and inputs; every other node of that workflow agrees.
CLASSLESS_IN_THE_SAMPLE = {
    "audio_ace_step_1_m2m_editing": {
        "18": "VAEDecodeAudio",
        "59": "SaveAudioMP3",
        "64": "LoadAudio",
        "68": "VAEEncodeAudio",
    },
}


# The sample was exported by frontend 1.32.9 beside ComfyUI 0.3.75: its templates are converted with that release's schemas.
RELEASE = ("--comfy-version", "0.3.75")


def cli(*args):
    return subprocess.run(
        ["node", str(ROOT / "bin" / "modal-cdk.js"), *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )


def essentials(graph):
    return {node_id: {"class_type": n.get("class_type"), "inputs": n["inputs"]} for node_id, n in graph.items()}


def test_the_sample_is_40_templates_all_installed():
    assert len(SAMPLE) == 40 and set(SAMPLE) <= set(TEMPLATES)


@pytest.mark.parametrize("name", sorted(SAMPLE))
def test_convert_agrees_with_the_frontend_export(name):
    run = cli("workflow", "convert", TEMPLATES[name], *PACKS, *RELEASE)
    assert run.returncode == 0, run.stderr
    ours, theirs = essentials(json.loads(run.stdout)), essentials(SAMPLE[name])
    classless = CLASSLESS_IN_THE_SAMPLE.get(name, {})
    assert {i for i, n in theirs.items() if n["class_type"] is None} == set(classless)
    for node_id, cls in classless.items():
        assert ours.pop(node_id)["class_type"] == cls
        theirs.pop(node_id)
    assert ours == theirs


def test_agreement_is_at_least_95_percent():
    assert (len(SAMPLE) - len(CLASSLESS_IN_THE_SAMPLE)) / len(SAMPLE) >= 0.95


def test_check_passes_a_converted_template_and_names_a_broken_one(tmp_path):
    converted = json.loads(cli("workflow", "convert", TEMPLATES["sdxl_simple_example"], *RELEASE).stdout)
    api = tmp_path / "sdxl.json"
    api.write_text(json.dumps(converted))
    ok = cli("workflow", "check", api, *RELEASE)
    assert ok.returncode == 0 and ok.stdout.startswith(
        f"sdxl.json: no problems ({len(converted)} nodes, node schemas of ComfyUI 0.3.75)"
    ), ok.stderr
    sampler = next(i for i, n in converted.items() if n["class_type"] == "KSamplerAdvanced")
    converted[sampler]["inputs"]["steps"] = 0
    api.write_text(json.dumps(converted))
    bad = cli("workflow", "check", api, *RELEASE)
    assert bad.returncode == 1
    assert (
        f"workflow sdxl.json node {sampler} (KSamplerAdvanced) input steps: got 0, expected at least 1 (ComfyUI's min) — fix the value"
        in bad.stderr
    )


def test_cli_usage_errors_and_help():
    assert cli("workflow", "--help").stdout.startswith(
        "Usage: modal-cdk workflow <convert|check> <file.json> [options]"
    )
    for args, message in [
        ((), "expected a sub-command, convert or check, got nothing"),
        (("convert",), "expected one workflow file, got none"),
        (
            ("check", "a.json", "--comfy-version", "latest"),
            '--comfy-version: got "latest", expected a release x.y.z; node schemas exist for 0.3.67, 0.3.71, 0.3.75, 0.10.0, 0.28.2',
        ),
    ]:
        run = cli("workflow", *args)
        assert run.returncode == 2 and message in run.stderr, run.stderr
    missing = cli("workflow", "check", "nope.json")
    assert missing.returncode == 1 and "nope.json: ENOENT, expected a workflow JSON file" in missing.stderr
    api = cli("workflow", "convert", ROOT / "workflows" / "flux-schnell.json")
    assert api.returncode == 1 and "not a UI-format workflow" in api.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))

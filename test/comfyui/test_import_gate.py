"""The image's import gate (templates/runtime/import_gate.py) against the real ComfyUI of the tier: it loads
ComfyUI's nodes the way the server does and fails, naming the pack and its error, when a custom node does
not import; naming the class and workflow when a class is registered by nothing; and passes the node set of
every RYLA and example app (every class of its workflows, the custom ones from the stand-in package of their
schemas) on the ComfyUI release that app pins."""

import re
import shlex
import subprocess

import pytest
from conftest import COMFY, COMFY_PYTHON, ROOT, comfy_tree, install_standin_nodes
from test_ryla_workflows import EXAMPLE, EXAMPLE_OUT, MANIFEST, PACK_SCHEMAS, SYNTH_OUT

GATE = ROOT / "templates" / "runtime" / "import_gate.py"


def gate(base, *args, tree=COMFY):
    run = subprocess.run(
        [COMFY_PYTHON, GATE, "--comfy-dir", tree, "--base-directory", base, "--cpu", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, run.stdout, run.stderr


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    base = tmp_path_factory.mktemp("gate-base")
    broken = base / "custom_nodes" / "broken_pack"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("import a_module_nobody_installed\nNODE_CLASS_MAPPINGS = {}\n")
    install_standin_nodes(base, PACK_SCHEMAS)
    return base


def test_a_pack_that_raises_on_import_fails_the_gate_with_its_name_and_error(base):
    code, _, err = gate(base, "--pack", "broken_pack", "--class", "KSampler=a.json")
    assert code == 1
    assert (
        "custom node broken_pack: failed to import: ModuleNotFoundError: No module named 'a_module_nobody_installed'"
        in err
    )


def test_a_workflow_class_that_nothing_registers_fails_the_gate(base):
    code, _, err = gate(base, "--class", "KSampler=a.json", "--class", "InstantIDFaceAnalysis=sdxl-instantid.json")
    assert code == 1
    assert (
        "node class InstantIDFaceAnalysis (workflow sdxl-instantid.json): registered by no node ComfyUI loaded" in err
    )
    assert "KSampler" not in err


STACK_APPS = [(SYNTH_OUT, a) for a in MANIFEST["apps"]] + [(EXAMPLE_OUT, a) for a in EXAMPLE["apps"]]


@pytest.mark.parametrize(
    ("synth_out", "app"), STACK_APPS, ids=[f"{o.name}:{a['id']}@{a['comfyVersion']}" for o, a in STACK_APPS]
)
def test_each_stack_apps_node_set_passes_on_its_release(base, synth_out, app):
    """Each app's own gate command, as synth wrote it into app.py, with the stand-in in place of its packs, on
    the ComfyUI release the app pins."""
    source = (synth_out / "apps" / app["id"] / "app.py").read_text()
    command = re.search(r'"python /root/import_gate\.py (.*?)"(?:, gpu=.*)?\)', source).group(1)
    args = shlex.split(command)
    classes = [a for i, a in enumerate(args) if i and args[i - 1] == "--class"]
    tree = comfy_tree(app["comfyVersion"])
    code, out, err = gate(base, "--pack", "mcdk_standin", *[x for c in classes for x in ("--class", c)], tree=tree)
    assert code == 0, err
    assert f"1 custom node pack(s) imported, {len(classes)} workflow class(es) registered" in out

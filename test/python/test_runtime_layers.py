"""The runtime every app ships, in layers a newcomer can hold in mind (issue 35 item 6): comfy_runtime.py
composes the ComfyUI process and its health (comfy_process.py), binding a request (request_binding.py) and
running a prompt (comfy_prompt.py), each under about 300 lines; jobs use the runner's interface and the
runner knows nothing of jobs; no import circle among the runtime's modules. Read from the synthesized app
folder (the files every app ships), with Python's own parser."""

import ast

import pytest
from conftest import MANIFEST, SYNTH_OUT

APP = SYNTH_OUT / "apps" / MANIFEST["apps"][0]["id"]
MODULES = {p.stem: p for p in APP.glob("*.py") if p.stem != "app"}
RUNNER = ["comfy_runtime", "comfy_process", "comfy_prompt", "request_binding"]
JOB_SIDE = {"jobs", "job_states", "job_list", "job_runner", "job_results", "job_routes", "webhooks", "local_serve"}


def imports(module):
    """The runtime modules `module` imports, at any depth of its code (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(MODULES)


def test_the_runner_is_split_by_concern_each_part_under_about_300_lines():
    assert set(RUNNER) <= set(MODULES)
    sizes = {m: len(MODULES[m].read_text().splitlines()) for m in RUNNER}
    assert all(n <= 300 for n in sizes.values()), sizes


def test_jobs_are_split_too_their_logic_list_gpu_side_files_and_routes_each_under_about_350_lines():
    """jobs.py (the front door's logic), job_list.py, job_runner.py (the GPU side), job_results.py (output
    files), job_routes.py (HTTP, with its OpenAPI descriptions), job_states.py (their words)."""
    parts = ["jobs", "job_states", "job_list", "job_runner", "job_results", "job_routes"]
    sizes = {m: len(MODULES[m].read_text().splitlines()) for m in parts}
    assert all(n <= 350 for n in sizes.values()), sizes
    # The front door's modules never import the GPU side (nor the runner behind it).
    front_door = {"jobs", "job_states", "job_list", "job_results", "job_routes"}
    assert all(imports(m) <= front_door | {"request_files", "webhooks"} for m in front_door), {
        m: imports(m) for m in front_door
    }


@pytest.mark.parametrize("module", RUNNER)
def test_the_runner_knows_nothing_of_jobs_or_local_serve(module):
    assert imports(module) & JOB_SIDE == set()


def test_no_import_circle_among_the_runtime_modules():
    graph = {m: imports(m) for m in MODULES}

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and reaches(n, target, (*seen, n))) for n in graph[start])

    assert [m for m in graph if reaches(m, m)] == []
    # jobs depend on the runner's interface (its Job and ComfyError), never on comfy_runtime itself
    assert "comfy_runtime" not in imports("jobs")


def test_the_job_front_door_image_carries_every_module_its_routes_import():
    """The front door (a CPU image of its own) gets only some runtime files: each module its job routes
    import, at any depth, must be among them (else `jobs_api` fails at import on Modal, which no local run
    shows, since every file lies beside app.py here)."""
    import re

    app_py = (APP / "app.py").read_text()
    block = app_py[app_py.index("front_door_image = (") : app_py.index("\n)\n", app_py.index("front_door_image = ("))]
    carried = set(re.findall(r'add_local_file\(HERE / "(\w+)\.py"', block))
    needed, todo = set(), ["job_routes", "jobs", "job_results"]
    while todo:
        module = todo.pop()
        if module not in needed:
            needed.add(module)
            todo.extend(imports(module))
    assert needed <= carried, f"the front door image lacks {sorted(needed - carried)}"

"""The import gate of a modal-cdk app's image: after its custom nodes are installed, load ComfyUI's nodes
the way the server does and fail the build when a custom-node pack does not import, or when a node class
that one of the app's workflows uses is registered by nothing. ComfyUI itself only logs "(IMPORT FAILED)"
and keeps serving, so without this the failure shows up as a missing node type on a paid GPU request.

    python import_gate.py --comfy-dir /root/comfy/ComfyUI --pack ComfyUI_InstantID --class KSampler ... [--cpu]

Exit 0: every pack imported and every class is registered; 1: the problems, one per line, naming the pack
and its import error or the class and the workflow that uses it. `--base-directory` is passed to ComfyUI
(for tests); `--cpu` when the build step has no GPU.
"""

import argparse
import asyncio
import importlib
import logging
import os
import sys
import time


class _PackErrors(logging.Handler):
    """Collects the traceback ComfyUI logs for a pack that fails to import (it logs and goes on)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="import_gate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--comfy-dir", required=True)
    parser.add_argument("--pack", action="append", default=[], help="a custom_nodes/ directory that must import")
    parser.add_argument(
        "--class", dest="classes", action="append", default=[], help="CLASS=WORKFLOW: a node class a workflow uses"
    )
    parser.add_argument("--base-directory", default=None)
    parser.add_argument("--cpu", action="store_true")
    args = parser.parse_args(argv)

    os.chdir(args.comfy_dir)
    sys.path.insert(0, args.comfy_dir)
    # ComfyUI reads its flags from sys.argv when its modules are imported.
    sys.argv = [
        "main.py",
        *(["--cpu"] if args.cpu else []),
        *(["--base-directory", args.base_directory] if args.base_directory else []),
    ]
    started = time.monotonic()
    import comfy.options

    comfy.options.enable_args_parsing()  # as main.py does, before anything imports comfy.cli_args
    # main.py imports ComfyUI's `utils` package first; later a module puts comfy/ on sys.path, after which
    # `utils` would be comfy/utils.py and comfy_extras/nodes_images.py would fail to import.
    importlib.import_module("utils.extra_config")
    import folder_paths
    import nodes

    errors = _PackErrors()
    logging.getLogger().addHandler(errors)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(nodes.init_builtin_extra_nodes())
    problems = []
    base = set(nodes.NODE_CLASS_MAPPINGS)
    custom_dirs = folder_paths.get_folder_paths("custom_nodes")
    for pack in args.pack:
        path = next((os.path.join(d, pack) for d in custom_dirs if os.path.exists(os.path.join(d, pack))), None)
        if path is None:
            problems.append(f"custom node {pack}: not installed in {' or '.join(custom_dirs)}")
            continue
        errors.messages.clear()
        if not loop.run_until_complete(nodes.load_custom_node(path, base, module_parent="custom_nodes")):
            problems.append(f"custom node {pack}: failed to import: {_last_error(errors.messages)}")
    for entry in args.classes:
        cls, _, workflow = entry.partition("=")
        if cls not in nodes.NODE_CLASS_MAPPINGS:
            problems.append(
                f"node class {cls} (workflow {workflow or '?'}): registered by no node ComfyUI loaded — add the CustomNode that provides it, or fix the workflow"
            )
    if problems:
        print("import gate: failed", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(
        f"import gate: {len(args.pack)} custom node pack(s) imported, {len(args.classes)} workflow class(es) registered ({time.monotonic() - started:.1f} s)"
    )
    return 0


def _last_error(messages):
    """The exception line of the traceback ComfyUI logged (e.g. `ModuleNotFoundError: No module named 'x'`)."""
    lines = [
        line.split(" module for custom nodes: ", 1)[-1]
        for message in messages
        for line in message.splitlines()
        if line.strip()
    ]
    exceptions = [line.strip() for line in lines if ":" in line and not line.startswith((" ", "Traceback", "File"))]
    return exceptions[-1] if exceptions else (lines[-1].strip() if lines else "no error logged")


if __name__ == "__main__":
    sys.exit(main())

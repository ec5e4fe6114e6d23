"""Fixtures for the Python tier: the synthesized assembly (MODAL_CDK_SYNTH_OUT) and its apps, imported."""

import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

import pytest

SYNTH_OUT = Path(os.environ.get("MODAL_CDK_SYNTH_OUT", "synth.out"))


def load_manifest():
    return json.loads((SYNTH_OUT / "manifest.json").read_text())


def import_app(app_id):
    """Import synth.out/apps/<id>/app.py as its own module, the way `modal deploy` does."""
    path = SYNTH_OUT / "apps" / app_id / "app.py"
    name = f"synth_app_{app_id.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecated Modal name in our output is a failure
        spec.loader.exec_module(module)
    return module


MANIFEST = load_manifest()
APP_IDS = [a["id"] for a in MANIFEST["apps"]]


@pytest.fixture(scope="session")
def manifest():
    return MANIFEST


@pytest.fixture(scope="session", params=APP_IDS)
def app_case(request):
    """(manifest entry, imported module) for each app."""
    entry = next(a for a in MANIFEST["apps"] if a["id"] == request.param)
    return entry, import_app(request.param)

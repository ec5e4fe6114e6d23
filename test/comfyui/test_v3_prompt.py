"""The graphs of test/fixtures/v3-graphs.json (ComfyUI 0.28.2's V3 schema language: Autogrow, DynamicCombo,
MatchType, lazy inputs, /node_replacements) through a real ComfyUI 0.28.2's /prompt: each is accepted or
refused as the fixture says, naming the node. test/v3-schemas.test.ts checks synth's verdict on the same
graphs; where the two differ, the fixture says why (the editor guards what /prompt leaves)."""

import json

import httpx
import pytest
from conftest import ROOT, comfy_tree, start_comfyui

CASES = json.loads((ROOT / "test" / "fixtures" / "v3-graphs.json").read_text())


@pytest.fixture(scope="module")
def comfy(tmp_path_factory):
    process, url = start_comfyui(tmp_path_factory.mktemp("v3-base"), tree=comfy_tree("0.28.2"))
    yield url
    process.kill()


@pytest.mark.parametrize("name", sorted(CASES))
def test_prompt_of_0_28_2_gives_the_fixtures_verdict(comfy, name):
    case = CASES[name]
    answer = httpx.post(f"{comfy}/prompt", json={"prompt": case["graph"]}, timeout=30)
    body = answer.json()
    if case["prompt"] == "ok":
        assert answer.status_code == 200 and not body.get("node_errors"), body
        httpx.post(f"{comfy}/queue", json={"delete": [body["prompt_id"]]}, timeout=10)
        httpx.post(f"{comfy}/interrupt", json={"prompt_id": body["prompt_id"]}, timeout=10)
    else:
        assert answer.status_code == 400, body
        assert set(case["promptNodeErrors"]) <= set(body["node_errors"]), body

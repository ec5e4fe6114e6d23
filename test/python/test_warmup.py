"""The warm-up (ComfyApp warmup) in the runtime every app ships: each generated app's WARMUP names its own
endpoints with values its request model accepts; warm_up runs the steps in order through execute and a
failure stops the start with the endpoint and node named; serve's --warmup picks app, none or paths."""

import pytest
from conftest import MANIFEST, import_app
from test_request_models import RecordingRunner
from test_runtime_outputs import runtime
from fastapi.testclient import TestClient


@pytest.mark.parametrize("entry", MANIFEST["apps"], ids=lambda a: a["id"])
def test_each_apps_warmup_names_its_endpoints_with_values_its_request_model_takes(entry):
    module = import_app(entry["id"])
    assert module.WARMUP == [{"path": s["path"], "values": s["values"]} for s in entry["warmup"]]
    client = TestClient(module.create_api(RecordingRunner()))
    for step in module.WARMUP:
        assert step["path"] in module.ENDPOINTS
        # The request model takes the warm-up's values as a user request (the runner only records it).
        response = client.post(step["path"], json=step["values"])
        assert response.status_code == 200, (step["path"], response.text)


class Executes(runtime.ComfyRunner):
    def __init__(self, fail_on=None):
        self.ran, self.fail_on = [], fail_on

    def execute(self, spec, values, accept="", job=None):
        self.ran.append((spec["workflow"], values, accept))
        if spec["workflow"] == self.fail_on:
            raise runtime.ComfyError(
                422, {"message": "ComfyUI refused the workflow", "node_errors": [{"node_id": "3", "class_type": "X"}]}
            )
        return {}, "application/json", {}


ENDPOINTS = {"/a": {"workflow": "a.json"}, "/b": {"workflow": "b.json"}}
STEPS = [{"path": "/b", "values": {"width": 64}}, {"path": "/a", "values": {}}]


def test_warm_up_runs_each_step_in_order_as_a_json_request():
    runner = Executes()
    runner.warm_up(STEPS, ENDPOINTS)
    assert runner.ran == [("b.json", {"width": 64}, "application/json"), ("a.json", {}, "application/json")]


def test_a_failed_warm_up_stops_the_start_naming_the_endpoint_and_the_node():
    runner = Executes(fail_on="b.json")
    with pytest.raises(RuntimeError) as failed:
        runner.warm_up(STEPS, ENDPOINTS)
    said = str(failed.value)
    assert said.startswith("warm-up of /b failed (422): ComfyUI refused the workflow")
    assert "'node_id': '3'" in said and "takes no requests" in said
    assert runner.ran == [("b.json", {"width": 64}, "application/json")]  # /a never ran


def test_serve_warmup_choice():
    import local_serve  # beside the runtime (its folder is on sys.path: test_runtime_outputs)

    planned = [{"path": "/a", "values": {"w": 1}}]
    assert local_serve.chosen_warmup("app", planned, ENDPOINTS) == planned
    assert local_serve.chosen_warmup("none", planned, ENDPOINTS) == []
    assert local_serve.chosen_warmup("/b, /a", planned, ENDPOINTS) == [{"path": "/b", "values": {}}, planned[0]]
    with pytest.raises(SystemExit, match="'/c' is not an endpoint of this app"):
        local_serve.chosen_warmup("/c", planned, ENDPOINTS)

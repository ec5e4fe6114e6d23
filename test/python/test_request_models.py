"""The generated FastAPI app: each route's pydantic request model, driven through FastAPI's TestClient
with a recording stand-in for the ComfyUI runner (the runner itself is tested against a real ComfyUI)."""

import pytest
from fastapi.testclient import TestClient

SAMPLES = {"string": "a red fox", "image": "aGVsbG8=", "int": None, "float": None, "bool": True, "seed": 7}


class RecordingRunner:
    def __init__(self):
        self.calls = []

    def run(self, spec, values):
        self.calls.append((spec, values))
        return {"ok": True}


def sample(field):
    """A valid value for a field: its default, else something inside its bounds."""
    if "default" in field:
        return field["default"]
    if field["type"] == "enum":
        return field["values"][0]
    if field["type"] in ("int", "float"):
        return field.get("min", field.get("max", 1))
    return SAMPLES[field["type"]]


@pytest.fixture
def client(app_case):
    entry, module = app_case
    runner = RecordingRunner()
    return entry, runner, TestClient(module.create_api(runner))


def test_health(client):
    entry, _, http = client
    assert http.get("/health").json() == {"status": "healthy", "app": entry["modalName"]}


def test_required_fields_only_gets_defaults(client):
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        body = {f["name"]: sample(f) for f in endpoint["fields"] if f["required"]}
        response = http.post(endpoint["path"], json=body)
        assert response.status_code == 200, response.text
        spec, values = runner.calls[-1]
        assert spec["output_node"] == endpoint["outputNode"]
        for field in endpoint["fields"]:
            expected = body.get(field["name"], field.get("default"))
            assert values[field["name"]] == expected, field["name"]


def test_unknown_fields_are_ignored(client):
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        body = {f["name"]: sample(f) for f in endpoint["fields"] if f["required"]}
        assert http.post(endpoint["path"], json={**body, "not_a_field": 1}).status_code == 200
        assert "not_a_field" not in runner.calls[-1][1]


def test_aliases_reach_the_canonical_field(client):
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        for field in (f for f in endpoint["fields"] if f["aliases"]):
            body = {f["name"]: sample(f) for f in endpoint["fields"] if f["required"] and f is not field}
            for alias in field["aliases"]:
                assert http.post(endpoint["path"], json={**body, alias: sample(field)}).status_code == 200
                assert runner.calls[-1][1][field["name"]] == sample(field)


def test_bad_values_are_422_naming_the_field(client):
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        base = {f["name"]: sample(f) for f in endpoint["fields"] if f["required"]}
        for field in endpoint["fields"]:
            bad = {"string": 12, "image": 12, "enum": "not-a-choice", "bool": "maybe", "int": "x", "float": "x", "seed": -1}
            if "max" in field:
                bad[field["type"]] = field["max"] + 1
            response = http.post(endpoint["path"], json={**base, field["name"]: bad[field["type"]]})
            assert response.status_code == 422, (field["name"], response.text)
            assert field["name"] in [str(p) for e in response.json()["detail"] for p in e["loc"]]
        calls = len(runner.calls)
        missing = [f["name"] for f in endpoint["fields"] if f["required"]]
        if missing:
            response = http.post(endpoint["path"], json={})
            assert response.status_code == 422
            assert {e["loc"][-1] for e in response.json()["detail"]} == set(missing)
        assert len(runner.calls) == calls  # nothing invalid reached the runner

"""The generated FastAPI app: each route's pydantic request model, driven through FastAPI's TestClient
with a recording stand-in for the ComfyUI runner (the runner itself is tested against a real ComfyUI)."""

import base64
import json

import pytest
from fastapi.testclient import TestClient
from media import tiny_mp4, tiny_png

# Real (tiny) files: the runtime decode-checks images and videos, and test_ryla_workflows.py binds these.
SAMPLES = {
    "string": "a red fox",
    "image": base64.b64encode(tiny_png()).decode(),
    "video": base64.b64encode(tiny_mp4()).decode(),
    "int": None,
    "float": None,
    "bool": True,
    "seed": 7,
}
# A value of the wrong kind for each field type (a seed must be ≥ 0).
BAD_VALUES = {
    "string": 12,
    "image": 12,
    "video": 12,
    "enum": "not-a-choice",
    "bool": "maybe",
    "int": "x",
    "float": "x",
    "seed": -1,
}


class RecordingRunner:
    def __init__(self):
        self.calls = []

    async def handle(self, spec, values, request):
        self.calls.append((spec, values))
        return {"ok": True}

    def health(self):
        return 200, {"status": "healthy"}


def sample(field):
    """A valid value for a field: its default, else something inside its bounds."""
    if "default" in field:
        return field["default"]
    if field["type"] == "enum":
        return field["values"][0]
    if field["type"] in ("int", "float"):
        return field.get("min", field.get("max", 1))
    return SAMPLES[field["type"]]


def minimal_body(endpoint, leave_out=None):
    """The smallest valid request: each required field, and the first field of each one-of group."""
    names = {f["name"] for f in endpoint["fields"] if f["required"]}
    names |= {group[0] for group in endpoint["requireOneOf"]}
    return {f["name"]: sample(f) for f in endpoint["fields"] if f["name"] in names and f is not leave_out}


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
        body = minimal_body(endpoint)
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
        body = minimal_body(endpoint)
        assert http.post(endpoint["path"], json={**body, "not_a_field": 1}).status_code == 200
        assert "not_a_field" not in runner.calls[-1][1]


def test_aliases_reach_the_canonical_field(client):
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        for field in (f for f in endpoint["fields"] if f["aliases"]):
            body = minimal_body(endpoint, leave_out=field)
            for alias in field["aliases"]:
                assert http.post(endpoint["path"], json={**body, alias: sample(field)}).status_code == 200
                assert runner.calls[-1][1][field["name"]] == sample(field)


def test_bad_values_are_422_naming_the_field(client):
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        base = minimal_body(endpoint)
        for field in endpoint["fields"]:
            bad = dict(BAD_VALUES)
            if "max" in field and not field.get("clamp"):
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
        for group in endpoint["requireOneOf"]:
            body = {k: v for k, v in base.items() if k not in group}
            response = http.post(endpoint["path"], json=body)
            assert response.status_code == 422
            assert all(name in response.text for name in group)
        assert len(runner.calls) == calls  # nothing invalid reached the runner


def test_values_json_can_carry_but_not_show_are_422_naming_the_field(client):
    """1e400, NaN and Infinity are valid JSON numbers for Python; a lone surrogate is a valid JSON string
    escape; a body need not be UTF-8. FastAPI's own error could not be sent for any of them (a 500): ours
    names the field, on every endpoint of every app."""
    entry, runner, http = client
    for endpoint in entry["endpoints"]:
        base = json.dumps(minimal_body(endpoint))[1:-1]
        for field in endpoint["fields"]:
            values = ["1e400", "NaN", "-Infinity"] + (
                ['"\\ud800"', '"a\\udfffb"'] if field["type"] in ("string", "image", "video") else []
            )
            for value in values:
                body = "{" + (base + ", " if base else "") + f'"{field["name"]}": {value}' + "}"
                response = http.post(
                    endpoint["path"], content=body.encode(), headers={"content-type": "application/json"}
                )
                assert response.status_code == 422, (field["name"], value, response.text)
                assert ["body", field["name"]] in [e["loc"][:2] for e in response.json()["detail"]], (
                    field["name"],
                    value,
                )
        for content_type in ("text/plain", "application/json"):
            response = http.post(endpoint["path"], content=b"\xff\xfe\x00", headers={"content-type": content_type})
            assert response.status_code == 422 and response.json()["message"].startswith("invalid request"), (
                response.text
            )

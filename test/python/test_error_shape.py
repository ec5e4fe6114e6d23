"""One error shape (docs/generated-app.md "One error shape"): every error answer of a generated app, request-model or
runtime, synchronous or job, is application/problem+json with RFC 9457's `type`, `title` and `status`, plus
`errors` ([{field, message}]) and `request_id`, and keeps the members today's clients read: `detail` (its
`message`; `field` for a refused request field; `node_errors` for a workflow ComfyUI refused) and, on a 422
from the request model, `message` and `detail[]` with `loc`, `msg`, `type` and `input`."""

import json

import jsonschema
import pytest
from conftest import APP_IDS, MANIFEST, SYNTH_OUT, import_app
from fastapi import HTTPException
from fastapi.testclient import TestClient
from test_request_models import RecordingRunner, minimal_body

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors", "request_id"}
# The shape as clients/endpoints.json describes it: every answer below must fit it.
SCHEMA = json.loads((SYNTH_OUT / "clients" / "endpoints.json").read_text())["errorSchema"]


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == status and body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"] and len(body["request_id"]) == 32
    jsonschema.validate(body, SCHEMA)
    return body


@pytest.fixture(params=APP_IDS[:2])
def app(request, monkeypatch):
    entry = next(a for a in MANIFEST["apps"] if a["id"] == request.param)
    monkeypatch.syspath_prepend(str(SYNTH_OUT / "apps" / entry["id"]))  # the runtime modules beside app.py
    return entry, import_app(request.param)


def test_a_request_model_422_keeps_message_and_detail_loc(app):
    entry, module = app
    endpoint = entry["endpoints"][0]
    field = next(f for f in endpoint["fields"] if f["type"] in ("int", "float", "string"))
    bad = {**minimal_body(endpoint), field["name"]: []}
    body = problem(TestClient(module.create_api(RecordingRunner())).post(endpoint["path"], json=bad), 422)
    assert body["message"] == f"invalid request: {field['name']}"
    assert body["detail"][0]["loc"] == ["body", field["name"]] and {"msg", "type", "input"} <= set(body["detail"][0])
    assert body["errors"] == [{"field": field["name"], "message": body["detail"][0]["msg"]}]


def test_a_runtime_refusal_keeps_detail_message_field_and_node_errors(app):
    entry, module = app
    endpoint = entry["endpoints"][0]
    refusals = [
        (422, {"field": "image", "message": "image: not an image"}),
        (
            422,
            {
                "message": "ComfyUI refused the workflow",
                "node_errors": [{"node_id": "3", "class_type": "KSampler", "errors": []}],
            },
        ),
        (503, {"message": "ComfyUI is not running"}),
    ]
    for status, detail in refusals:

        class Refusing(RecordingRunner):
            async def handle(self, spec, values, request, detail=detail, status=status):
                raise HTTPException(status_code=status, detail=detail)

        body = problem(
            TestClient(module.create_api(Refusing())).post(endpoint["path"], json=minimal_body(endpoint)), status
        )
        assert body["detail"] == detail  # exactly today's detail
        assert body["errors"] == ([{"field": "image", "message": "image: not an image"}] if "field" in detail else [])


def test_an_unknown_route_is_a_404_problem_with_fastapis_detail(app):
    _, module = app
    body = problem(TestClient(module.create_api(RecordingRunner())).get("/no-such-route"), 404)
    assert body["detail"] == "Not Found"

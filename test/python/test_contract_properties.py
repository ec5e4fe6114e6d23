"""One request contract: the published JSON Schema (clients/endpoints.json) and the server (the generated
pydantic models behind FastAPI) accept exactly the same bodies, shown with property-based tests in both
directions over every endpoint of every app:
- schema → server: bodies hypothesis-jsonschema generates from the schema are all accepted (200);
- server ⇔ schema: a valid body with one field (or alias) set to a value from a wide mix of JSON values
  (null, booleans, integers and integral floats, floats, numeric and other strings, lists, objects) is
  accepted by the server exactly when the schema accepts it.
Non-finite numbers are left out: standard JSON cannot carry them (the server refuses them with a 422).
"""

import json

import jsonschema
import pytest
from conftest import MANIFEST, SYNTH_OUT, import_app
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from test_request_models import RecordingRunner, minimal_body

SCHEMAS = {
    path: e["requestSchema"]
    for path, e in json.loads((SYNTH_OUT / "clients" / "endpoints.json").read_text())["endpoints"].items()
}
CASES = [(a["id"], e) for a in MANIFEST["apps"] for e in a["endpoints"]]
IDS = [e["path"] for _, e in CASES]
CLIENTS = {}

# Seeded (derandomize): the same examples every run, no example database written.
SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
# The wide mix of JSON values a careless client sends.
WIDE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-5, 5000).map(float),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "7", "7.5", "true", "null", "1e3", " 768 "]),
    st.lists(st.text(max_size=4), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def client(app_id):
    if app_id not in CLIENTS:
        runner = RecordingRunner()
        CLIENTS[app_id] = (runner, TestClient(import_app(app_id).create_api(runner)))
    return CLIENTS[app_id]


def server_accepts(app_id, path, body):
    runner, http = client(app_id)
    response = http.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert response.status_code in (200, 422), response.text  # never a 5xx
    return response.status_code == 200


@pytest.mark.parametrize("app_id, endpoint", CASES, ids=IDS)
def test_every_body_the_schema_generates_is_accepted(app_id, endpoint):
    schema = SCHEMAS[endpoint["path"]]

    @settings(SETTINGS, max_examples=25)
    @given(from_schema(schema))
    def check(body):
        assert server_accepts(app_id, endpoint["path"], body), json.dumps(body)[:500]

    check()


@pytest.mark.parametrize("app_id, endpoint", CASES, ids=IDS)
def test_server_and_schema_agree_on_every_one_field_change(app_id, endpoint):
    validator = jsonschema.Draft202012Validator(SCHEMAS[endpoint["path"]])
    base = minimal_body(endpoint)
    names = [n for f in endpoint["fields"] for n in [f["name"], *f["aliases"]]]

    @settings(SETTINGS, max_examples=60)
    @given(st.sampled_from(names), WIDE_VALUES)
    def check(name, value):
        body = {**base, name: value}
        expected = validator.is_valid(body)
        assert server_accepts(app_id, endpoint["path"], body) == expected, (name, value, expected)

    check()

"""What the runtime answers: bytes in the format the Content-Type names, and the timing and cost headers,
through the generated FastAPI app (ComfyUI's queue and history are stubbed; the rest is the real code)."""

import base64
import importlib.util
import io
import sys

import pytest
from conftest import APP_IDS, MANIFEST, SYNTH_OUT, import_app
from test_request_models import minimal_body
from fastapi.testclient import TestClient
from PIL import Image

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG"


def load_runtime():
    sys.path.insert(0, str(SYNTH_OUT / "apps" / APP_IDS[0]))  # request_files.py ships beside it
    spec = importlib.util.spec_from_file_location(
        "comfy_runtime_outputs", SYNTH_OUT / "apps" / APP_IDS[0] / "comfy_runtime.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runtime = load_runtime()


def png(size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_jpeg_endpoint_answers_jpeg_bytes_for_comfyuis_png():
    data, media_type = runtime.encode_output({"files": [("out_00001_.png", png())], "texts": []}, "jpeg", "image/jpeg")
    assert (data[:3], media_type) == (JPEG_MAGIC, "image/jpeg")


def test_png_passes_through_and_animated_webp_is_not_reencoded():
    assert runtime.encode_output({"files": [("a.png", png())], "texts": []}, "png", "image/png") == (png(), "image/png")
    animated = b"RIFF\x00\x00\x00\x00WEBPVP8X fake animation"
    assert runtime.encode_output({"files": [("v_00001_.webp", animated)], "texts": []}, "webp", "image/webp") == (
        animated,
        "image/webp",
    )


# The first JPEG endpoint with a required text field, in whichever stack is synthesized (RYLA: /flux).
APP, ENDPOINT, FIELD = next(
    (a, e, f)
    for a in MANIFEST["apps"]
    for e in a["endpoints"]
    if e["output"] == "jpeg"
    for f in e["fields"]
    if f["type"] == "string" and f["required"] and not f.get("format")
)


def test_headers_and_bytes_reach_the_http_client(tmp_path):
    module = import_app(APP["id"])
    runner = runtime.ComfyRunner(
        comfy_dir=tmp_path,
        port=0,
        workflows_dir=SYNTH_OUT / "apps" / APP["id"] / "workflows",
        usd_per_second=module.GPU_USD_PER_SECOND,
    )
    queued = []
    runner.queue_and_wait = lambda graph, request_id, timeout, job: queued.append(graph) or "prompt-1"
    runner.collect = lambda prompt_id, node, seen: {"files": [("out_00001_.png", png())], "texts": []}
    body = {**minimal_body(ENDPOINT), FIELD["name"]: "a red fox"}
    response = TestClient(module.create_api(runner)).post(ENDPOINT["path"], json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg" and response.content[:3] == JPEG_MAGIC
    assert float(response.headers["x-cost-usd"]) >= 0 and module.GPU_USD_PER_SECOND > 0
    assert int(response.headers["x-execution-time-ms"]) >= 0
    assert response.headers["x-prompt-id"] == "prompt-1"
    seed = next((f for f in ENDPOINT["fields"] if f["type"] == "seed"), None)
    if seed is not None:  # the field's default when left out (a seed without one is random)
        assert response.headers["x-seed"] == str(seed.get("default", response.headers["x-seed"]))
    node, name = FIELD["targets"][0]["node"], FIELD["targets"][0]["input"]
    assert queued[0][node]["inputs"][name] == "a red fox"


def test_a_request_refused_at_its_second_file_leaves_no_first_file(tmp_path):
    (tmp_path / "two.json").write_text(
        '{"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}}, "2": {"class_type": "LoadImage", "inputs": {"image": "b.png"}}}'
    )
    image = {"type": "image", "max_bytes": 1000, "max_pixels": 10_000, "max_frames": 1}
    spec = {
        "workflow": "two.json",
        "fields": [
            {**image, "name": "a", "targets": [["1", "image"]]},
            {**image, "name": "b", "targets": [["2", "image"]]},
        ],
        "output": "png",
        "content_type": "image/png",
        "output_node": "3",
        "timeout_seconds": 5,
    }
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    with pytest.raises(runtime.ComfyError) as refused:
        runner.execute(spec, {"a": base64.b64encode(png()).decode(), "b": "http://example.com/b.png"})
    assert (refused.value.status, refused.value.detail["field"]) == (422, "b")
    assert list((tmp_path / "input").iterdir()) == []  # a.png was saved, then deleted


def test_a_seed_left_out_is_random_within_the_fields_bounds(tmp_path):
    """A node may take less than 2^64 (SeedVR2: 32 bits; EmptyImage's colour: 24): the random seed of a
    request that sends none stays inside the field's own min and max."""
    (tmp_path / "one.json").write_text('{"1": {"class_type": "EmptyImage", "inputs": {"color": 0}}}')
    spec = {
        "workflow": "one.json",
        "fields": [{"name": "seed", "type": "seed", "targets": [["1", "color"]], "random_min": 3, "random_max": 9}],
    }
    runner = runtime.ComfyRunner(comfy_dir=tmp_path, port=0, workflows_dir=tmp_path)
    seeds = {runner.bind(spec, {}, request_id=str(i))[1] for i in range(200)}
    assert seeds <= set(range(3, 10)) and len(seeds) > 1


def test_outputs_carry_no_embedded_graph_unless_kept():
    """ComfyUI's SaveImage writes the prompt and workflow as PNG text chunks, SaveAnimatedWEBP as EXIF:
    the answer has the same pixels without them; keep_metadata keeps them."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", '{"3": {"class_type": "KSampler"}}')
    info.add_text("workflow", '{"nodes": []}')
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG", pnginfo=info)
    saved = buffer.getvalue()
    stripped, _ = runtime.encode_output({"files": [("a.png", saved)], "texts": []}, "png", "image/png")
    assert Image.open(io.BytesIO(saved)).text.keys() == {"prompt", "workflow"}
    assert Image.open(io.BytesIO(stripped)).text == {} and b"KSampler" not in stripped
    assert Image.open(io.BytesIO(stripped)).tobytes() == Image.open(io.BytesIO(saved)).tobytes()
    kept, _ = runtime.encode_output({"files": [("a.png", saved)], "texts": []}, "png", "image/png", keep_metadata=True)
    assert kept == saved

    exif = Image.Exif()
    exif[0x010F] = 'Workflow:{"nodes": []}'  # SaveAnimatedWEBP writes the graph into EXIF tags such as Make
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="WEBP", exif=exif.tobytes(), lossless=True)
    webp = buffer.getvalue()
    assert b"EXIF" in webp
    clean, _ = runtime.encode_output({"files": [("v.webp", webp)], "texts": []}, "webp", "image/webp")
    assert b"EXIF" not in clean and b"Workflow" not in clean
    assert Image.open(io.BytesIO(clean)).tobytes() == Image.open(io.BytesIO(webp)).tobytes()


def test_accept_json_on_a_jpeg_endpoint_carries_jpeg_as_the_binary_answer_would():
    body, media_type = runtime.encode_output(
        {"files": [("out_00001_.png", png())], "texts": []}, "jpeg", "image/jpeg", as_json=True
    )
    assert media_type == "application/json"
    assert base64.b64decode(body["files"][0]["base64"])[:3] == JPEG_MAGIC
    assert body["files"][0]["filename"] == "out_00001_.jpeg"

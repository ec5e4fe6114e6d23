"""Today's RYLA clients against the generated apps (reference/ryla-contract.md §3, §5): every body the
team's clients and scripts send is accepted, and binds into the workflow the way the contract says.

Requests go through FastAPI's TestClient into the real `comfy_runtime.ComfyRunner.bind`, which sets the
values in the synthesized workflow; only the ComfyUI call itself is left out (tested against a real
ComfyUI elsewhere). Skipped when the synthesized stack is not RYLA's.
"""

import base64
import importlib.util
import sys

import pytest
from conftest import MANIFEST, SYNTH_OUT, import_app
from media import tiny_mp4
from fastapi.testclient import TestClient

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
MP4 = "data:video/mp4;base64," + base64.b64encode(tiny_mp4()).decode()
RAW_PNG = PNG.split(",", 1)[1]
RAW_PNG_BYTES = base64.b64decode(RAW_PNG)

# Bodies the clients send today, by endpoint: modal-client.ts / the API adapter (§5.4), ryla_client.py
# (§5.5), test-all-endpoints-comprehensive.py and benchmark-endpoints.py (§5.6), the playground.
CLIENT_BODIES = {
    "/flux": [
        {
            "prompt": "a red fox",
            "negative_prompt": "",
            "width": 1024,
            "height": 1024,
            "steps": 4,
            "cfg": 1.0,
            "seed": 5,
        },
        {"prompt": "a red fox", "width": 1024, "height": 1024, "steps": 4, "seed": 42},
    ],
    "/flux-dev": [
        {
            "prompt": "a red fox",
            "negative_prompt": "deformed, blurry, bad anatomy, ugly, low quality, nsfw, nude, naked",
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "cfg": 3.5,
            "seed": 123,
        },
        {"prompt": "a red fox", "width": 1024, "height": 768, "steps": 20, "seed": 42},
    ],
    "/flux-dev-lora": [
        {
            "prompt": "a red fox",
            "width": 512,
            "height": 512,
            "steps": 20,
            "cfg": 1.0,
            "seed": 1,
            "lora_id": "test-benchmark",
            "lora_strength": 0.8,
        },
        {"prompt": "a red fox", "lora_name": "flux-character-abc", "trigger_word": "ohwx"},
    ],
    "/sdxl-instantid": [
        {
            "prompt": "a portrait",
            "reference_image": PNG,
            "negative_prompt": "",
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "instantid_strength": 0.8,
            "sdxl_checkpoint": "sd_xl_base_1.0.safetensors",
            "face_provider": "CPU",
        },
        {
            "prompt": "a portrait",
            "reference_image": PNG,
            "negative_prompt": "",
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "cfg": 3.5,
            "seed": 9,
            "instantid_strength": 0.8,
            "controlnet_strength": 0.6,
            "face_provider": "GPU",
        },
        {
            "prompt": "a portrait",
            "reference_image": PNG,
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "seed": 42,
            "instantid_strength": 0.8,
        },
    ],
    "/sdxl-turbo": [
        {"prompt": "a red fox", "width": 1024, "height": 1024, "seed": 42},
        {"prompt": "a red fox", "width": 1024, "height": 1024, "steps": 20, "cfg": 1.0, "seed": 3},
    ],
    "/sdxl-lightning": [
        {"prompt": "a red fox", "width": 1024, "height": 1024, "seed": 123},
        {"prompt": "a red fox", "width": 1024, "height": 1024, "steps": 20, "cfg": 1.0, "seed": 3},
    ],
    "/flux-pulid": [
        {
            "prompt": "a portrait",
            "reference_image": PNG,
            "negative_prompt": "ugly",
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "cfg": 1.0,
            "seed": 4,
            "pulid_strength": 0.8,
            "pulid_start": 0.0,
            "pulid_end": 1.0,
            "face_provider": "CPU",
        },
        {
            "prompt": "a portrait",
            "reference_image": PNG,
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "seed": 42,
            "pulid_weight": 0.8,
        },
    ],
    "/flux-ipadapter-faceid": [
        {
            "prompt": "a portrait",
            "reference_image": PNG,
            "negative_prompt": "ugly",
            "width": 1024,
            "height": 1024,
            "steps": 20,
            "cfg": 1.0,
            "seed": 4,
            "ipadapter_strength": 0.8,
            "face_provider": "CPU",
        },
    ],
    "/qwen-image-2512": [
        {"prompt": "a red fox", "negative_prompt": "", "width": 1328, "height": 1328, "seed": 8},
    ],
    "/qwen-image-2512-fast": [
        {"prompt": "a red fox", "negative_prompt": "", "width": 1328, "height": 1328, "seed": 8},
        {"prompt": "a red fox", "aspect_ratio": "1:1", "seed": 42},
    ],
    "/qwen-image-2512-lora": [
        {
            "prompt": "a red fox",
            "negative_prompt": "",
            "width": 1328,
            "height": 1328,
            "seed": 8,
            "lora_id": "abc",
            "lora_strength": 1.0,
            "trigger_word": "ohwx",
        },
    ],
    "/video-faceswap": [
        {"source_video": MP4, "reference_image": PNG, "fps": 30, "restore_face": True},
    ],
    "/qwen-image-edit-2511": [
        {"source_image": PNG, "instruction": "make it night"},
        {"source_image": RAW_PNG, "instruction": "make it night", "steps": 20, "cfg": 4.0, "seed": 1, "denoise": 0.7},
    ],
    "/qwen-image-inpaint-2511": [
        {"source_image": PNG, "mask_image": PNG, "prompt": "a hat", "steps": 20, "cfg": 4.0, "seed": 1},
    ],
    "/z-image-simple": [
        {"prompt": "a red fox", "negative_prompt": "", "width": 1024, "height": 1024, "steps": 9, "cfg": 1.0},
        {
            "prompt": "a red fox",
            "negative_prompt": "",
            "width": 1024,
            "height": 1024,
            "steps": 4,
            "cfg": 0.0,
            "seed": 42,
        },
    ],
    "/z-image-danrisi": [
        {"prompt": "a red fox", "negative_prompt": "", "width": 1024, "height": 1024, "steps": 20, "cfg": 1.0},
    ],
    "/z-image-lora": [
        {
            "prompt": "a red fox",
            "width": 512,
            "height": 512,
            "lora_id": "test-benchmark",
            "lora_strength": 0.8,
            "steps": 8,
            "cfg": 4.5,
        },
    ],
    "/wan2.6": [
        {
            "prompt": "a fox running",
            "negative_prompt": "",
            "width": 832,
            "height": 480,
            "num_frames": 33,
            "fps": 16,
            "seed": 2,
        },
        {"prompt": "a fox running", "width": 832, "height": 480, "length": 17, "steps": 20, "fps": 16, "seed": 42},
        {
            "prompt": "a fox running",
            "width": 480,
            "height": 480,
            "length": 17,
            "fps": 16,
            "steps": 20,
            "cfg": 6.0,
            "seed": 1,
        },
    ],
    "/wan2.6-lora": [
        {
            "prompt": "a fox running",
            "negative_prompt": "",
            "width": 832,
            "height": 480,
            "num_frames": 33,
            "fps": 16,
            "seed": 2,
            "lora_id": "abc",
            "lora_strength": 1.0,
        },
    ],
    "/wan2.6-r2v": [
        {"prompt": "a fox running", "reference_video": MP4},
        {"prompt": "a fox running", "reference_videos": [MP4, MP4]},
    ],
    "/seedvr2": [
        {"image": PNG, "scale": 2},
        {"image": PNG, "resolution": 1080, "seed": 42},
        {"image": RAW_PNG, "resolution": 2160, "seed": 7, "max_resolution": 4000},
    ],
}

RYLA = {e["path"] for a in MANIFEST["apps"] for e in a["endpoints"]} == set(CLIENT_BODIES)
pytestmark = pytest.mark.skipif(not RYLA, reason="the synthesized stack is not the RYLA stack")
APP_OF = {e["path"]: a["id"] for a in MANIFEST["apps"] for e in a["endpoints"]}


class BindingRunner:
    """Binds each request into its workflow with the real runtime, and keeps the graph."""

    def __init__(self, runtime, app_dir, comfy_dir):
        self.runner = runtime.ComfyRunner(comfy_dir=comfy_dir, port=0, workflows_dir=app_dir / "workflows")
        self.graphs = []

    async def handle(self, spec, values, request):
        graph, _, files = self.runner.bind(spec, values, request_id="req")
        self.graphs.append((graph, [f.name for f in files]))
        return {"ok": True}


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    made = {}
    for app_id in sorted(set(APP_OF.values())):
        app_dir = SYNTH_OUT / "apps" / app_id
        sys.path.insert(0, str(app_dir))  # request_files.py ships beside the runtime
        spec = importlib.util.spec_from_file_location(
            f"comfy_runtime_{app_id.replace('-', '_')}", app_dir / "comfy_runtime.py"
        )
        runtime = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(runtime)
        runner = BindingRunner(runtime, app_dir, tmp_path_factory.mktemp(app_id))
        made[app_id] = (runner, TestClient(import_app(app_id).create_api(runner)))
    return made


def post(clients, path, body):
    """POST a body; returns the bound graph (node id → inputs) and the saved input file names."""
    runner, http = clients[APP_OF[path]]
    response = http.post(path, json=body)
    assert response.status_code == 200, (path, body, response.text)
    graph, files = runner.graphs[-1]
    return {node_id: node["inputs"] for node_id, node in graph.items()}, files


@pytest.mark.parametrize("path,body", [(p, b) for p, bodies in CLIENT_BODIES.items() for b in bodies])
def test_todays_client_bodies_are_accepted(clients, path, body):
    inputs, files = post(clients, path, body)
    sent_files = [k for k, v in body.items() if isinstance(v, (str, list)) and "base64" in str(v) or v == RAW_PNG]
    assert len(files) == len(sent_files)  # each image or video was saved for its loader


ALIASES = [
    ("/wan2.6", {"prompt": "p", "seed": 1, "length": 17}, {"prompt": "p", "seed": 1, "num_frames": 17}),
    (
        "/wan2.6-lora",
        {"prompt": "p", "seed": 1, "lora_id": "a", "length": 17},
        {"prompt": "p", "seed": 1, "lora_id": "a", "num_frames": 17},
    ),
    (
        "/wan2.6-r2v",
        {"prompt": "p", "seed": 1, "reference_videos": [MP4], "length": 17},
        {"prompt": "p", "seed": 1, "reference_video": MP4, "num_frames": 17},
    ),
    (
        "/flux-pulid",
        {"prompt": "p", "seed": 1, "reference_image": PNG, "pulid_weight": 0.7, "start_at": 0.1, "end_at": 0.9},
        {"prompt": "p", "seed": 1, "reference_image": PNG, "pulid_strength": 0.7, "pulid_start": 0.1, "pulid_end": 0.9},
    ),
    ("/seedvr2", {"image": PNG, "max_resolution": 3000}, {"image": PNG, "max_resolution_2": 3000}),
]


@pytest.mark.parametrize("path,canonical,aliased", ALIASES)
def test_an_alias_sets_the_same_node_input_as_its_canonical_name(clients, path, canonical, aliased):
    assert post(clients, path, aliased) == post(clients, path, canonical)


def test_each_declared_alias_has_a_case_above(manifest):
    declared = {
        (e["path"], alias)
        for a in manifest["apps"]
        for e in a["endpoints"]
        for f in e["fields"]
        for alias in f["aliases"]
    }
    covered = {(path, key) for path, _, aliased in ALIASES for key in aliased}
    assert declared <= covered


def test_contract_values_reach_their_nodes(clients):
    flux, _ = post(clients, "/flux", {"prompt": "a fox", "negative_prompt": ""})
    assert flux["7"]["text"].startswith("ugly, deformed")  # empty negative → the Flux default, as today
    assert flux["3"]["seed"] == 42  # fixed seed when left out

    lora, _ = post(clients, "/flux-dev-lora", {"prompt": "a fox", "trigger_word": "ohwx", "lora_id": "abc"})
    assert lora["6"]["text"] == "ohwx a fox"
    assert lora["14"]["lora_name"] == "ryla/flux-character-abc.safetensors"
    named, _ = post(clients, "/flux-dev-lora", {"prompt": "a fox", "lora_id": "abc", "lora_name": "mine"})
    assert named["14"]["lora_name"] == "ryla/mine.safetensors"  # lora_name wins, suffix added

    turbo, _ = post(clients, "/sdxl-turbo", {"prompt": "a fox", "steps": 20})
    assert turbo["5"]["steps"] == 4  # clamped to 1..4 as the old server did

    instantid, files = post(
        clients,
        "/sdxl-instantid",
        {"prompt": "p", "reference_image": PNG, "face_provider": "GPU", "controlnet_strength": 0.5},
    )
    assert instantid["3"]["provider"] == "CUDA"
    assert instantid["8"]["cn_strength"] == 0.5
    assert instantid["5"]["image"] == files[0] and files[0].endswith(".png")

    qwen, _ = post(clients, "/qwen-image-2512", {"aspect_ratio": "16:9", "width": 512, "use_lightning_lora": True})
    assert (qwen["8"]["width"], qwen["8"]["height"]) == (1664, 928)
    assert qwen["4"]["strength_model"] == 1.0
    assert qwen["6"]["text"] == "A beautiful woman"

    swap, files = post(
        clients, "/video-faceswap", {"source_video": MP4, "reference_image": PNG, "restore_face": False, "fps": 24}
    )
    assert swap["3"]["face_restore_model"] == "none"
    assert swap["1"]["force_rate"] == swap["4"]["frame_rate"] == 24
    assert swap["1"]["video"].endswith(".mp4")

    zimage, _ = post(clients, "/z-image-simple", {"prompt": "p", "cfg": 0.0})
    assert zimage["11"]["cfg"] == 1.0  # diffusers' "no guidance" 0 is ComfyUI's 1
    danrisi, _ = post(clients, "/z-image-danrisi", {"prompt": "p", "steps": 12})
    assert danrisi["9"]["steps"] == danrisi["11"]["steps"] == 12

    wan, _ = post(clients, "/wan2.6-lora", {"prompt": "p", "lora_id": "abc", "lora_strength": 0.5, "cfg": 5.0})
    assert wan["20"]["lora_name"] == wan["21"]["lora_name"] == "ryla-wan/wan-character-abc.safetensors"
    assert wan["20"]["strength_model"] == wan["21"]["strength_model"] == 0.5
    assert wan["10"]["cfg"] == wan["11"]["cfg"] == 5.0


def test_a_lora_endpoint_needs_lora_id_or_lora_name(clients):
    for path in ("/flux-dev-lora", "/qwen-image-2512-lora", "/z-image-lora", "/wan2.6-lora"):
        _, http = clients[APP_OF[path]]
        response = http.post(path, json={"prompt": "a fox"})
        assert response.status_code == 422
        assert "lora_name, lora_id" in response.text


def test_r2v_takes_at_most_three_reference_videos(clients):
    _, http = clients["wan26"]
    assert http.post("/wan2.6-r2v", json={"prompt": "p", "reference_videos": [MP4] * 4}).status_code == 422
    assert http.post("/wan2.6-r2v", json={"prompt": "p", "reference_videos": []}).status_code == 422


def test_reasonable_values_refused_before_are_accepted(clients):
    """Values today's clients can send that the first version refused (issue: one request contract)."""
    swap, _ = post(clients, "/video-faceswap", {"source_video": MP4, "reference_image": PNG, "fps": 23.976})
    assert swap["1"]["force_rate"] == swap["4"]["frame_rate"] == 23.976  # an NTSC rate, not only whole fps
    lora, _ = post(clients, "/flux-dev-lora", {"prompt": "a fox", "lora_id": "abc", "lora_name": ""})
    assert lora["14"]["lora_name"] == "ryla/flux-character-abc.safetensors"  # an empty lora_name is left out
    qwen, _ = post(clients, "/qwen-image-2512", {"prompt": ""})
    assert qwen["6"]["text"] == "A beautiful woman"  # the contract's default, not an empty prompt
    nulls, _ = post(clients, "/flux", {"prompt": "a fox", "seed": None, "width": None})
    assert nulls["5"]["width"] == 1024 and nulls["3"]["seed"] == 42  # null means left out: the defaults
    data = base64.b64encode(RAW_PNG_BYTES).decode()
    wrapped = "\n".join(data[i : i + 76] for i in range(0, len(data), 76))
    for image in (wrapped, data.rstrip("="), base64.urlsafe_b64encode(RAW_PNG_BYTES).decode()):
        _, files = post(clients, "/seedvr2", {"image": image})
        assert len(files) == 1


def test_strings_for_numbers_and_numbers_for_booleans_are_422(clients):
    _, http = clients["flux"]
    for body in (
        {"prompt": "p", "steps": True},
        {"prompt": "p", "width": "768"},
        {"prompt": "p", "cfg": "7.5"},
        {"prompt": "p", "width": 768.5},
    ):
        response = http.post("/flux-dev", json=body)
        assert response.status_code == 422, body
    assert (
        post(clients, "/flux-dev", {"prompt": "p", "width": 768.0})[0]["5"]["width"] == 768
    )  # 768.0 is a whole number

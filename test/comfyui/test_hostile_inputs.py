"""Hostile and careless request bodies against the test app (test/fixtures/comfy-stack.ts) served by
`modal-cdk serve` on a real ComfyUI: each is a 4xx naming the field (or the body), decided before anything
is queued and within 5 s; and requests under 1 MiB cannot raise ComfyUI's resident memory by more than
256 MiB (decompression bombs are refused by their header)."""

import base64
import io
import signal
import struct
import time
import zlib

import httpx
import pytest
from conftest import placeholder, start_comfyui, start_serve
from PIL import Image
from test_real_comfyui import PROJECT

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile-base")
    placeholder(base, "checkpoints", "placeholder.safetensors")
    comfy, comfy_url = start_comfyui(base)
    serve, api = start_serve(PROJECT, comfy_url, base, log=open(base / "serve.log", "wb"))
    yield {"api": api, "comfy": comfy_url, "base": base, "comfy_pid": comfy.pid}
    serve.send_signal(signal.SIGINT)
    comfy.kill()
    serve.wait(10)


def raw(servers, path, content, content_type="application/json"):
    started = time.monotonic()
    response = httpx.post(
        f"{servers['api']}{path}", content=content, headers={"Content-Type": content_type}, timeout=60
    )
    response.elapsed_s = time.monotonic() - started
    return response


def upload(servers, data):
    return raw(servers, "/upload", f'{{"image": "{base64.b64encode(data).decode()}"}}'.encode())


def queued(servers):
    return len(httpx.get(f"{servers['comfy']}/history", timeout=10).json())


def rss_bytes(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width, height):
    """A tiny PNG whose header claims width × height (its pixel data is a few bytes)."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b"")


def encoded(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


def gif_of_frames(count, size=(256, 256)):
    """An animated GIF of `count` full frames that differ in one pixel (each stored as a 1×1 patch)."""
    frames = []
    for i in range(count):
        frame = Image.new("L", size, 0)
        frame.putpixel((0, 0), 255 * (i % 2))
        frames.append(frame)
    return encoded(frames[0], format="GIF", save_all=True, append_images=frames[1:])


BOMBS = {
    "a 100000×100000 PNG of 69 bytes": png_claiming(100000, 100000),
    "a 6000×6000 1-bit PNG": encoded(Image.new("1", (6000, 6000)), format="PNG"),
    "a 45 KB GIF of 1,200 256×256 frames": gif_of_frames(1200),
}


@pytest.mark.parametrize(
    "body, field",
    [
        (b'{"width": 1e400}', "width"),
        (b'{"width": NaN}', "width"),
        (b'{"width": -Infinity}', "width"),
        (b'{"image": "\\ud800"}', "image"),
        (b'{"image": 1e400}', "image"),
    ],
)
def test_a_value_fastapi_could_not_even_show_is_422_naming_the_field(servers, body, field):
    path = "/upload" if field == "image" else "/invert"
    response = raw(servers, path, body)
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [["body", field]]


def test_a_body_that_is_not_utf8_is_422_naming_the_body(servers):
    for content_type in ("text/plain", "application/octet-stream", "application/json"):
        response = raw(servers, "/invert", b"\xff\xfe\x00width", content_type)
        assert response.status_code == 422, (content_type, response.text)
        assert response.json()["message"].startswith("invalid request: ")


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1/x.png",
        "https://[not-an-ip]/x.png",
        "https://example.com:99999/x.png",
        "https://xn--/x.png",
        "https://a\u3002\ud7ff.example/x.png",
    ],
)
def test_a_malformed_url_host_is_422_naming_the_field(servers, url):
    before = queued(servers)
    response = raw(servers, "/upload", ('{"image": %s}' % __import__("json").dumps(url)).encode())
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"] == "image"
    assert queued(servers) == before


@pytest.mark.parametrize(
    "data, why",
    [
        (b"not an image at all", "not a decodable image (UnidentifiedImageError)"),
        (encoded(Image.new("RGB", (64, 64), "red"), format="PNG")[:-40], "not a decodable image"),
        (encoded(Image.new("RGB", (64, 64), "red"), format="JPEG")[:200], "not a decodable image"),
    ],
)
def test_bytes_that_are_not_an_image_are_422_before_anything_is_queued(servers, data, why):
    before = queued(servers)
    response = upload(servers, data)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["field"] == "image" and why in detail["message"]
    assert str(servers["base"]) not in response.text
    assert queued(servers) == before


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_decompression_bomb_is_413_by_its_header_fast_and_never_queued(servers, name):
    data = BOMBS[name]
    assert len(data) < 64 * 1024
    before = queued(servers)
    response = upload(servers, data)
    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert detail["field"] == "image" and ("pixels" in detail["message"] or "frame" in detail["message"]), detail
    assert response.elapsed_s < 5
    assert queued(servers) == before


def test_no_request_under_1_mib_raises_comfyui_memory_by_more_than_256_mib(servers):
    """The bombs, the largest image /upload takes (2048×2048, decoded, inverted and saved by ComfyUI) and a
    few ordinary requests: ComfyUI's resident memory never grows by more than 256 MiB over its start."""
    largest = encoded(Image.new("RGB", (2048, 2048), (10, 200, 30)), format="PNG")
    assert len(largest) < MIB
    assert (
        upload(servers, encoded(Image.new("RGB", (8, 8)), format="PNG")).status_code == 200
    )  # warm: first model of LoadImage etc.
    start = rss_bytes(servers["comfy_pid"])
    peak = start
    for data in [*BOMBS.values(), largest, largest, *BOMBS.values()]:
        response = upload(servers, data)
        assert response.status_code in (200, 413), response.text
        peak = max(peak, rss_bytes(servers["comfy_pid"]))
    print(
        f"ComfyUI resident memory: {start / MIB:.0f} MiB at the start, peak {peak / MIB:.0f} MiB (+{(peak - start) / MIB:.0f} MiB)"
    )
    assert peak - start <= 256 * MIB, f"ComfyUI grew by {(peak - start) / MIB:.0f} MiB"

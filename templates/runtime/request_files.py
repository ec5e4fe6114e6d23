"""Request files for modal-cdk apps: an image or video a request sends inline (base64, a data URL) or as
an https URL, checked before anything reaches ComfyUI. Copied unchanged into every synthesized app beside
comfy_runtime.py. Every refusal is a ComfyError naming the request field: 422 for what is not what it
claims (not decodable, a malformed or private URL), 413 for what is too large (bytes, pixels, frames,
checked from the file's header before it is decoded).
"""

import base64
import binascii
import http.client
import io
import ipaddress
import json
import os
import re
import socket
import ssl
import time
import urllib.parse
import uuid

# File extension for an input's media type; ComfyUI's loaders pick files by extension.
DATA_URL_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
}
# A URL input's fetch: each network wait at most URL_TIMEOUT_SECONDS, the whole fetch (every redirect and
# read, however slowly the bytes drip) at most URL_TOTAL_SECONDS and never past the request's own deadline.
URL_TIMEOUT_SECONDS = 30
URL_TOTAL_SECONDS = 60
URL_MAX_REDIRECTS = 3
URL_READ_CHUNK = 64 * 1024

# What ComfyUI's loaders read: Pillow formats for images (LoadImage), containers for videos (PyAV's names).
IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "GIF": "GIF", "BMP": "BMP"}
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "WebM/MKV"}


class ComfyError(Exception):
    """An error with the HTTP status and JSON detail the endpoint should answer with."""

    def __init__(self, status, detail):
        super().__init__(detail.get("message", str(detail)))
        self.status = status
        self.detail = detail


# -- the one error shape ------------------------------------------------------------------------------

PROBLEM_JSON = "application/problem+json"
PROBLEM_TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    408: "Request body too slow",
    409: "Not finished",
    410: "Gone",
    413: "Request too large",
    422: "Invalid request",
    429: "Too many requests",
    499: "Client closed the request",
    500: "Internal error",
    501: "Not implemented",
    503: "Unavailable",
    504: "Timed out",
}


def problem_body(status, detail, errors=None, title=None):
    """Every error answer (docs/generated-app.md "One error shape"): RFC 9457's type, title and status, `errors` (each
    {field, message}) and a `request_id`; `detail` keeps what it held before (a string, or the object whose
    `message` and, for ComfyUI's refusals, `node_errors` today's clients read), so no reader breaks."""
    if errors is None:
        errors = []
        if isinstance(detail, dict) and detail.get("field"):
            errors = [{"field": detail["field"], "message": detail.get("message", "")}]
        elif isinstance(detail, list):  # pydantic's errors: loc = ("body", field, ...)
            errors = [
                {"field": ".".join(str(p) for p in d.get("loc", [])[1:]) or "body", "message": d.get("msg", "")}
                for d in detail
                if isinstance(d, dict)
            ]
    return {
        "type": "about:blank",
        "title": title or PROBLEM_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "errors": errors,
        "request_id": uuid.uuid4().hex,
    }


def decode_inline_file(value, field, kind, max_bytes):
    """A base64 (standard or URL-safe, padded or not, wrapped or not) or data-URL image or video; returns
    (bytes, file extension)."""
    extension = ".png" if kind == "image" else ".mp4"
    if value[:5].lower() == "data:":  # a scheme is case-insensitive (RFC 3986 §3.1): DATA: too
        header, _, value = value.partition(",")
        extension = DATA_URL_EXTENSIONS.get(header[5:].split(";")[0].strip().lower(), extension)
    # Tolerated as encoders write it: line breaks and spaces (MIME wraps at 76), no padding, URL-safe letters.
    value = "".join(value.split()).replace("-", "+").replace("_", "/")
    value += "=" * (-len(value) % 4)
    if len(value) > max_bytes // 3 * 4 + 4:
        raise ComfyError(413, {"field": field, "message": f"{field}: {kind} larger than {max_bytes} bytes"})
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ComfyError(
            422, {"field": field, "message": f"{field}: expected base64 {kind} data, a data URL or an https URL"}
        ) from e
    if len(data) > max_bytes:
        raise ComfyError(413, {"field": field, "message": f"{field}: {kind} larger than {max_bytes} bytes"})
    return data, extension


# IPv6 ranges that carry an IPv4 address inside (to be translated or tunnelled to it): never fetched, so
# that no form of a private IPv4 address (169.254.169.254, 127.0.0.1) gets past the check.
IPV6_EMBEDDING_IPV4 = [
    ipaddress.ip_network(n)
    for n in (
        "::/96",  # IPv4-compatible (deprecated), e.g. ::a9fe:a9fe
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT), e.g. ::ffff:0:7f00:1
        "64:ff9b::/96",  # NAT64 well-known prefix (RFC 6052)
        "64:ff9b:1::/48",  # NAT64 local-use prefix (RFC 8215)
        "2002::/16",  # 6to4 (RFC 3056)
        "2001::/32",  # Teredo (RFC 4380)
    )
]


def is_public_address(address):
    """Whether an IP address is on the public internet: not loopback, private, link-local (the cloud's
    metadata service), shared, reserved or multicast. An IPv4-mapped IPv6 address counts as its IPv4; the
    other IPv6 forms that embed an IPv4 address (compatible, translated, NAT64, 6to4, Teredo) are refused."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.version == 6 and any(address in network for network in IPV6_EMBEDDING_IPV4):
        return False
    return address.is_global and not address.is_multicast


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a host at an address already checked, so DNS cannot swap in another between the check and
    the connection; SNI and certificate checks still use the host name."""

    def __init__(self, host, port, address, context, timeout):
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address
        self.ssl_context = context

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class UrlPolicy:
    """How an image or video given as a URL is fetched: https only, to public addresses only (checked on
    the address connected to), redirects re-checked, at most the field's max bytes, and only media types
    the field's kind has. `allow_address` and `ssl_context` exist for tests on loopback."""

    def __init__(self, allow_address=is_public_address, ssl_context=None):
        self.allow_address = allow_address
        self.ssl_context = ssl_context  # the system's trust store, loaded on the first fetch (not at start-up)

    def fetch(self, url, field, kind, max_bytes, deadline=None, cancelled=None):
        """Returns (bytes, media type); raises ComfyError 422 (or 413 when too large, 504 past the deadline)
        naming the field. `deadline`: the request's own (time.monotonic()); the fetch also stops at
        URL_TOTAL_SECONDS. `cancelled`: a callable, true once the client went away (the fetch stops)."""

        def refuse(message, status=422):
            return ComfyError(status, {"field": field, "message": f"{field}: {message}"})

        stop_at = time.monotonic() + URL_TOTAL_SECONDS
        if deadline is not None:
            stop_at = min(stop_at, deadline)

        def remaining():
            if cancelled is not None and cancelled():
                raise ComfyError(
                    499, {"field": field, "message": f"{field}: the client disconnected while the URL was fetched"}
                )
            left = stop_at - time.monotonic()
            if left <= 0:
                raise refuse(
                    f"fetching the URL took longer than {URL_TOTAL_SECONDS} s or the endpoint's time limit: stopped",
                    504,
                )
            return min(left, URL_TIMEOUT_SECONDS)

        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        for _ in range(URL_MAX_REDIRECTS + 1):
            try:  # a malformed host ("[::1", "[not-an-ip]", a bad port) raises ValueError here
                parts = urllib.parse.urlsplit(url)  # lower-cases the scheme: HTTPS:// is https://
                hostname, port = parts.hostname, parts.port or 443
            except ValueError as e:
                raise refuse(f"not a valid URL ({e}): expected https://host/path") from e
            if parts.scheme != "https" or not hostname:
                raise refuse(f"only https URLs are fetched, got {url[:100]!r}")
            try:  # IDNA refuses some host names with UnicodeError, a ValueError
                infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
            except (OSError, ValueError) as e:
                raise refuse(f"cannot resolve {hostname[:100]!r}: {e}") from e
            addresses = [info[4][0] for info in infos]
            refused = [a for a in addresses if not self.allow_address(ipaddress.ip_address(a.split("%")[0]))]
            if refused:
                raise refuse(
                    f"{hostname} resolves to {refused[0]}, a private, loopback or reserved address: only public https URLs are fetched"
                )
            connection = PinnedHTTPSConnection(hostname, port, addresses[0], self.ssl_context, remaining())
            try:
                connection.request(
                    "GET",
                    urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, "")),
                    headers={"Accept": f"{kind}/*", "User-Agent": "modal-cdk-runtime"},
                )
                sock = connection.sock  # kept: http.client lets go of it once a response will close
                sock.settimeout(remaining())
                response = connection.getresponse()
                if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                    url = urllib.parse.urljoin(url, response.getheader("Location"))
                    continue
                if response.status != 200:
                    raise refuse(f"{hostname} answered HTTP {response.status} for the URL")
                media_type = response.headers.get_content_type()
                allowed = sorted(t for t in DATA_URL_EXTENSIONS if t.startswith(f"{kind}/"))
                if media_type not in allowed:
                    raise refuse(f"the URL is {media_type}, expected one of {', '.join(allowed)}")
                length = response.getheader("Content-Length")
                if length is not None and length.isdigit() and int(length) > max_bytes:
                    raise refuse(f"the URL's {kind} is {length} bytes, more than {max_bytes}", 413)
                # Read in chunks, checking the deadline and the client between them: a server that sends a
                # byte every few seconds never trips a per-read timeout, but runs out of time here.
                chunks, size = [], 0
                while size <= max_bytes:
                    sock.settimeout(remaining())
                    chunk = response.read1(URL_READ_CHUNK)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                if size > max_bytes:
                    raise refuse(f"the URL's {kind} is more than {max_bytes} bytes", 413)
                return b"".join(chunks), media_type
            except (OSError, http.client.HTTPException) as e:
                if time.monotonic() >= stop_at:
                    raise refuse(
                        f"fetching the URL took longer than {URL_TOTAL_SECONDS} s or the endpoint's time limit: stopped",
                        504,
                    ) from e
                raise refuse(f"could not fetch the URL from {hostname}: {e}") from e
            finally:
                connection.close()
        raise refuse(f"more than {URL_MAX_REDIRECTS} redirects")


# -- decode checks: is it what it claims, and how large will it be in ComfyUI ---------------------------


def check_media(data, field):
    """Decode-check a request's image or video before it reaches ComfyUI. The size comes from the header
    first (width × height over the field's max_pixels, or more than max_frames frames: 413), then the first
    frame is decoded (not an image or video of a known kind, or corrupt: 422). Returns nothing."""
    name, kind = field["name"], field["type"]

    def refuse(status, message):
        return ComfyError(status, {"field": name, "message": f"{name}: {message}"})

    if kind == "image":
        _check_image(data, field["max_pixels"], field["max_frames"], refuse)
    else:
        _check_video(data, field["max_pixels"], field["max_frames"], refuse)


def _check_image(data, max_pixels, max_frames, refuse):
    from PIL import Image

    accepted = ", ".join(dict.fromkeys(IMAGE_FORMATS.values()))
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            if image.format not in IMAGE_FORMATS:
                raise refuse(
                    422, f"the image is {image.format}, which ComfyUI's image loaders do not take: expected {accepted}"
                )
            width, height = image.size
            if width * height > max_pixels:
                raise refuse(
                    413,
                    f"the image is {width}×{height} = {width * height} pixels, more than {max_pixels} (the field's maxPixels)",
                )
            frames = 1
            while frames <= max_frames and _has_frame(image, frames):
                frames += 1
            if frames > max_frames:
                raise refuse(413, f"the image has more than {max_frames} frame(s) (the field's maxFrames)")
            image.seek(0)
            image.load()  # decodes the first frame: a corrupt or truncated file fails here, not in ComfyUI
    except ComfyError:
        raise
    except Image.DecompressionBombError as e:
        raise refuse(413, f"the image claims more pixels than an image may have ({e})") from e
    except Exception as e:  # any failure to decode untrusted bytes is the request's fault: a 422
        raise refuse(422, f"not a decodable image ({type(e).__name__}): expected {accepted}") from e


def _has_frame(image, index):
    try:
        image.seek(index)
        return True
    except EOFError:
        return False


def _check_video(data, max_pixels, max_frames, refuse):
    import av

    accepted = ", ".join(VIDEO_CONTAINERS.values())
    try:
        with av.open(io.BytesIO(data)) as container:
            if container.format.name not in VIDEO_CONTAINERS:
                raise refuse(
                    422,
                    f"the file is {container.format.long_name or container.format.name}, not a video container ComfyUI's video loaders take: expected {accepted}",
                )
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None or stream.codec_context is None:
                raise refuse(422, "the file has no video stream")
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > max_pixels:
                raise refuse(
                    413,
                    f"the video is {width}×{height} = {width * height} pixels a frame, more than {max_pixels} (the field's maxPixels)",
                )
            frames = stream.frames
            if not frames:  # not in the header (WebM): count packets, stopping past the cap
                frames = 0
                for packet in container.demux(stream):
                    frames += packet.size > 0
                    if frames > max_frames:
                        break
                container.seek(0)
            if frames > max_frames:
                raise refuse(
                    413,
                    f"the video has {frames if stream.frames else f'more than {max_frames}'} frames, more than {max_frames} (the field's maxFrames)",
                )
            next(container.decode(stream))  # the first frame decodes
    except ComfyError:
        raise
    except Exception as e:  # any failure to decode untrusted bytes is the request's fault: a 422
        raise refuse(422, f"not a decodable video ({type(e).__name__}): expected {accepted} with a video stream") from e


# -- request bodies: a client that sends too slowly is dropped ---------------------------------------

# The longest wait for the next piece of a request body, and for the whole body (overridable for tests).
BODY_IDLE_SECONDS = float(os.environ.get("MODAL_CDK_BODY_IDLE_SECONDS", "30"))
BODY_TOTAL_SECONDS = float(os.environ.get("MODAL_CDK_BODY_TOTAL_SECONDS", "300"))


class SlowBodyGuard:
    """ASGI middleware for request bodies. One that stops arriving for BODY_IDLE_SECONDS, or takes longer
    than BODY_TOTAL_SECONDS in all, is answered 408 and its connection given up, so a client that drips
    its body cannot hold a worker. One over its route's cap (`max_bytes`: path → bytes) is answered 413,
    at once when its Content-Length says so, else as soon as that many bytes have come (a chunked body):
    one error shape either way. The app sees such a request as disconnected."""

    def __init__(self, app, idle_seconds=None, total_seconds=None, max_bytes=None):
        self.app = app
        self.idle_seconds = BODY_IDLE_SECONDS if idle_seconds is None else idle_seconds
        self.total_seconds = BODY_TOTAL_SECONDS if total_seconds is None else total_seconds
        self.max_bytes = max_bytes or {}

    async def __call__(self, scope, receive, send):
        import asyncio

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self.max_bytes.get(scope.get("path")) if scope.get("method") == "POST" else None
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if cap is not None and declared.isdigit() and int(declared) > cap:
            return await _refuse(send, 413, _too_large(scope["path"], cap, int(declared)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_seconds
        state = {"refused": None, "body_done": False, "started": False, "received": 0}

        async def guarded_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:
                return await receive()  # waiting for a disconnect, not for the body
            try:
                message = await asyncio.wait_for(receive(), max(min(self.idle_seconds, deadline - loop.time()), 0.001))
            except TimeoutError:
                message = f"the request body did not arrive in time (nothing for {self.idle_seconds:g} s, or over {self.total_seconds:g} s in all): send it at once"
                state["refused"] = (408, message)
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if cap is not None and state["received"] > cap:
                    state["refused"] = (413, _too_large(scope["path"], cap))
                    return {"type": "http.disconnect"}
                if not message.get("more_body", False):
                    state["body_done"] = True
            return message

        async def guarded_send(message):
            if state["refused"]:
                return  # the app's answer to a request it never got whole: the refusal below is sent instead
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if not state["refused"]:
                raise
        if state["refused"] and not state["started"]:
            await _refuse(send, *state["refused"])


def _too_large(path, cap, size=None):
    got = f"{size} bytes" if size is not None else f"more than {cap} bytes"
    return f"the request body is {got}: POST {path} takes at most {cap} bytes (its files' caps in base64, plus 1 MiB) — send smaller files, or https URLs to them"


async def _refuse(send, status, message):
    body = json.dumps(problem_body(status, {"message": message})).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- what an error body may say -------------------------------------------------------------------------

_PATH = re.compile(r"(?<![\w:/])(?:/[^/\s'\"<>]+)+/([^/\s'\"<>]+)")


def scrub_paths(value):
    """An error detail without server paths: an absolute path keeps only its file name."""
    if isinstance(value, str):
        return _PATH.sub(r"\1", value)
    if isinstance(value, dict):
        return {k: scrub_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_paths(v) for v in value]
    return value

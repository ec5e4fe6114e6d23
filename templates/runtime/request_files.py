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
import re
import socket
import ssl
import urllib.parse

# File extension for an input's media type; ComfyUI's loaders pick files by extension.
DATA_URL_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
}
URL_TIMEOUT_SECONDS = 30
URL_MAX_REDIRECTS = 3


class ComfyError(Exception):
    """An error with the HTTP status and JSON detail the endpoint should answer with."""

    def __init__(self, status, detail):
        super().__init__(detail.get("message", str(detail)))
        self.status = status
        self.detail = detail


def decode_inline_file(value, field, kind, max_bytes):
    """A base64 (standard or URL-safe, padded or not, wrapped or not) or data-URL image or video; returns
    (bytes, file extension)."""
    extension = ".png" if kind == "image" else ".mp4"
    if value.startswith("data:"):
        header, _, value = value.partition(",")
        extension = DATA_URL_EXTENSIONS.get(header[5:].split(";")[0], extension)
    # Tolerated as encoders write it: line breaks and spaces (MIME wraps at 76), no padding, URL-safe letters.
    value = "".join(value.split()).replace("-", "+").replace("_", "/")
    value += "=" * (-len(value) % 4)
    if len(value) > max_bytes // 3 * 4 + 4:
        raise ComfyError(413, {"field": field, "message": f"{field}: {kind} larger than {max_bytes} bytes"})
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ComfyError(422, {"field": field, "message": f"{field}: expected base64 {kind} data, a data URL or an https URL"}) from e
    if len(data) > max_bytes:
        raise ComfyError(413, {"field": field, "message": f"{field}: {kind} larger than {max_bytes} bytes"})
    return data, extension


def is_public_address(address):
    """Whether an IP address is on the public internet: not loopback, private, link-local (the cloud's
    metadata service), shared, reserved or multicast. An IPv4-mapped IPv6 address counts as its IPv4."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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

    def fetch(self, url, field, kind, max_bytes):
        """Returns (bytes, media type); raises ComfyError 422 (or 413 when too large) naming the field."""

        def refuse(message, status=422):
            return ComfyError(status, {"field": field, "message": f"{field}: {message}"})

        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        for _ in range(URL_MAX_REDIRECTS + 1):
            try:  # a malformed host ("[::1", "[not-an-ip]", a bad port) raises ValueError here
                parts = urllib.parse.urlsplit(url)
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
            refused = [a for a in addresses if not self.allow_address(ipaddress.ip_address(a))]
            if refused:
                raise refuse(f"{hostname} resolves to {refused[0]}, a private, loopback or reserved address: only public https URLs are fetched")
            connection = PinnedHTTPSConnection(hostname, port, addresses[0], self.ssl_context, URL_TIMEOUT_SECONDS)
            try:
                connection.request("GET", urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, "")),
                                   headers={"Accept": f"{kind}/*", "User-Agent": "modal-cdk-runtime"})
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
                data = response.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise refuse(f"the URL's {kind} is more than {max_bytes} bytes", 413)
                return data, media_type
            except (OSError, http.client.HTTPException) as e:
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
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            width, height = image.size
            if width * height > max_pixels:
                raise refuse(413, f"the image is {width}×{height} = {width * height} pixels, more than {max_pixels} (the field's maxPixels)")
            frames = 1
            while frames <= max_frames and _has_frame(image, frames):
                frames += 1
            if frames > max_frames:
                raise refuse(413, f"the image has more than {max_frames} frame(s) (the field's maxFrames)")
            image.seek(0)
            image.load()  # decodes the first frame: a corrupt or truncated file fails here, not in ComfyUI
    except Image.DecompressionBombError as e:
        raise refuse(413, f"the image claims more pixels than an image may have ({e})") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning) as e:
        raise refuse(422, f"not a decodable image ({type(e).__name__}): expected PNG, JPEG, WebP or another format Pillow reads") from e


def _has_frame(image, index):
    try:
        image.seek(index)
        return True
    except EOFError:
        return False


def _check_video(data, max_pixels, max_frames, refuse):
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None:
                raise refuse(422, "the file has no video stream")
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > max_pixels:
                raise refuse(413, f"the video is {width}×{height} = {width * height} pixels a frame, more than {max_pixels} (the field's maxPixels)")
            frames = stream.frames
            if not frames:  # not in the header (WebM): count packets, stopping past the cap
                frames = 0
                for packet in container.demux(stream):
                    frames += packet.size > 0
                    if frames > max_frames:
                        break
                container.seek(0)
            if frames > max_frames:
                raise refuse(413, f"the video has {frames if stream.frames else f'more than {max_frames}'} frames, more than {max_frames} (the field's maxFrames)")
            next(container.decode(stream))  # the first frame decodes
    except (av.error.FFmpegError, StopIteration, ValueError, OSError) as e:
        raise refuse(422, f"not a decodable video ({type(e).__name__}): expected MP4, WebM or MOV with a video stream") from e


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

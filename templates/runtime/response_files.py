"""Response files for modal-cdk apps: what ComfyUI wrote, as the endpoint answers it. Copied unchanged into
every synthesized app beside comfy_runtime.py.

- The format the endpoint's Content-Type names: a JPEG endpoint answers JPEG bytes (re-encoded from
  ComfyUI's PNG), in the binary answer and in its JSON form alike.
- No graph inside: ComfyUI's savers embed the whole workflow and prompt (PNG text chunks, WebP EXIF/XMP,
  MP4 metadata tags), which would hand every client the team's workflow; they are removed unless the
  endpoint keeps them (`keepMetadata`). Pixels and frames are never re-encoded for that.
"""

import base64
import io
import struct
import zlib

# PNG chunks that carry text (ComfyUI writes "prompt" and "workflow" as tEXt); everything else is kept.
PNG_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# WebP (RIFF) chunks with metadata, and the VP8X flags that announce them.
WEBP_METADATA_CHUNKS = {b"EXIF": 0x08, b"XMP ": 0x04}


def encode_output(outputs, output, content_type, as_json=False, keep_metadata=False):
    """The endpoint's answer: (body, media type). Every file is converted to the endpoint's `output`
    format and stripped of embedded metadata (unless `keep_metadata`); the first file is the binary
    answer, or all of them and the texts come as JSON when `as_json` (asked for, or a batch) or the
    endpoint's output is json."""
    return encode_files(
        converted_files(outputs, output, keep_metadata), outputs["texts"], output, content_type, as_json
    )


def converted_files(outputs, output, keep_metadata=False):
    """[(name, bytes)]: each output file as the endpoint answers it (its format, no embedded graph)."""
    return [(renamed(name, output), convert(name, data, output, keep_metadata)) for name, data in outputs["files"]]


def encode_files(files, texts, output, content_type, as_json=False):
    """encode_output's answer from files already converted."""
    if as_json or output == "json" or not files:
        return {
            "files": [{"filename": n, "base64": base64.b64encode(b).decode()} for n, b in files],
            "texts": texts,
        }, "application/json"
    return files[0][1], content_type


def renamed(name, output):
    """A PNG's file name once it is converted to the endpoint's JPEG or WebP (`out_00001_.jpeg`)."""
    if output in ("jpeg", "webp") and name.lower().endswith(".png"):
        return f"{name[:-4]}.{output}"
    return name


def convert(name, data, output, keep_metadata=False):
    """One output file in the endpoint's format, without metadata unless kept. Returns bytes; for a json
    endpoint the file stays in the format ComfyUI wrote."""
    if output in ("jpeg", "webp") and not name.lower().endswith(f".{output}") and data[:8] == PNG_SIGNATURE:
        from PIL import Image

        buffer = io.BytesIO()
        image = Image.open(io.BytesIO(data))
        if output == "jpeg":
            image = image.convert("RGB")
        image.save(buffer, format=output.upper(), quality=95)  # Pillow writes no text metadata unless asked
        return buffer.getvalue()
    if keep_metadata:
        return data
    if data[:8] == PNG_SIGNATURE:
        return strip_png_text(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return strip_webp_metadata(data)
    if data[4:8] == b"ftyp":
        return strip_mp4_metadata(data)
    return data


def strip_png_text(data):
    """The PNG without its text chunks (bytes-level: the image data is copied as it is). A file whose
    chunks do not add up is returned as it is."""
    out, at, dropped = [PNG_SIGNATURE], 8, False
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        end = at + 12 + length
        if data[at + 4 : at + 8] in PNG_TEXT_CHUNKS:
            dropped = True
        else:
            out.append(data[at:end])
        at = end
    return b"".join(out) if dropped and at == len(data) else data


def strip_webp_metadata(data):
    """The WebP without its EXIF and XMP chunks, and the VP8X flags that announced them cleared. A file
    whose chunks do not add up, or that has none of them, is returned as it is."""
    chunks, at, dropped = [], 12, False
    while at + 8 <= len(data):
        kind, (size,) = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])
        end = at + 8 + size + (size & 1)
        chunk = data[at:end]
        if kind in WEBP_METADATA_CHUNKS:
            dropped, at = True, end
            continue
        if kind == b"VP8X":
            flags = chunk[8] & ~(WEBP_METADATA_CHUNKS[b"EXIF"] | WEBP_METADATA_CHUNKS[b"XMP "])
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        chunks.append(chunk)
        at = end
    if not dropped or at != len(data):
        return data
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def strip_mp4_metadata(data):
    """The MP4 remuxed without its metadata tags (ComfyUI's SaveVideo writes the prompt and workflow as
    tags): the streams' packets are copied, not re-encoded. A file PyAV cannot remux is returned as is."""
    import av

    try:
        with av.open(io.BytesIO(data)) as source:
            if not any(key.lower() in ("prompt", "workflow", "comment") for key in source.metadata):
                return data
            buffer = io.BytesIO()
            with av.open(buffer, "w", format="mp4") as target:
                streams = {
                    s.index: target.add_stream_from_template(s) for s in source.streams if s.type in ("video", "audio")
                }
                for packet in source.demux(*[s for s in source.streams if s.index in streams]):
                    if packet.dts is None:
                        continue
                    packet.stream = streams[packet.stream.index]
                    target.mux(packet)
            return buffer.getvalue()
    except Exception:  # noqa: BLE001 - an output is never lost to the clean-up
        return data


def png_text_chunk(key, text):
    """A tEXt chunk (for tests and for endpoints that add their own)."""
    payload = key.encode("latin-1") + b"\0" + text.encode("latin-1")
    return struct.pack(">I", len(payload)) + b"tEXt" + payload + struct.pack(">I", zlib.crc32(b"tEXt" + payload))

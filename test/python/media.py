"""Small real media files for tests: the runtime decode-checks every image and video a request sends."""

import io

from PIL import Image


def tiny_png(size=(8, 8), colour=(200, 30, 30)):
    """A real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def tiny_mp4(frames=2, size=(16, 16)):
    """A real MP4 (MPEG-4 video) of a few frames, which the runtime's decode check accepts."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (i * 60 % 256, 0, 0))).reformat(format="yuv420p")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()

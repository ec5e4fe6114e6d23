"""A job's outputs as files (docs/jobs.md "Results as files"): the GPU side writes each output of a job to
<root>/<job id>/<name> as soon as it has it, the job front door serves them (Range reads included), and a
sweep deletes them once the app's keepResults has passed. The job store (a modal.Dict) keeps only the
job's small record, which lists them; no output ever passes through it.

<root> is, on Modal, the Volume the app declares for its job results (written, then committed; the
front door reloads it when a file it expects is not there yet) or the team's S3-compatible bucket through
a CloudBucketMount (each file an object from its close; `url` a presigned URL); locally, a folder.
Plain Python with no Modal import, so the same code serves on Modal and locally.
"""

import base64
import json
import mimetypes
import os
import re
import shutil
import time
from pathlib import Path

# A job's folder name (jobs.py's uuid4().hex) and an output's name (ComfyUI's, e.g. mcdk_<id>_00001_.png):
# nothing that could leave the folder.
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
# Written into a job's folder when it has all its outputs: the time it finished (the sweep reads it).
FINISHED_STAMP = ".finished"
# A folder with no stamp (its job died while writing) is swept this long after its last change.
UNFINISHED_GRACE_SECONDS = 86_400
# Bytes per read when a result is streamed as JSON: a multiple of 3, so each piece's base64 joins the next.
JSON_CHUNK_BYTES = 3 * 256 * 1024
# A presigned URL lives at most this long (AWS Signature Version 4's limit is 7 days).
PRESIGN_MAX_SECONDS = 7 * 86_400


def content_type_of(name):
    """An output file's media type, from its name (what ComfyUI's savers write: png, jpeg, webp, mp4, …)."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class ResultFiles:
    """Job outputs under `root`. `commit()` runs after each write (a Volume's commit: other containers see
    the file from then on); `refresh()` before a read gives up on a missing file (a Volume's reload; it
    returns whether it could); `presign(key, seconds)` makes a bucket object's URL (None: outputs are
    served by the front door's route). `atomic`: write to a temporary name and rename (a bucket mount
    cannot rename; its object appears whole when the file is closed)."""

    def __init__(self, root, commit=None, refresh=None, presign=None, atomic=True):
        self.root = Path(root)
        self.commit = commit or (lambda: None)
        self.refresh = refresh or (lambda: False)
        self.presign = presign
        self.atomic = atomic

    def write(self, job_id, name, data):
        """Store one output; returns its entry for the job's record: {name, content_type, size_bytes}."""
        if not JOB_ID.match(job_id) or not SAFE_NAME.match(name):
            raise ValueError(f"job {job_id!r}, output {name!r}: not a job id and a plain file name")
        folder = self.root / job_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        written = folder / f".{name}.partial" if self.atomic else target
        with open(written, "wb") as f:
            f.write(data)
        if written != target:
            os.replace(written, target)
        self.commit()
        return {"name": name, "content_type": content_type_of(name), "size_bytes": len(data)}

    def finished(self, job_id, at):
        """Stamp the job's folder with the time it finished (the sweep counts keepResults from it)."""
        folder = self.root / job_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FINISHED_STAMP).write_text(json.dumps({"finished_at": at}))
        self.commit()

    def path(self, job_id, name):
        """The file of one output, or None when it is not (or not yet) visible here."""
        if not JOB_ID.match(job_id) or not SAFE_NAME.match(name):
            return None
        path = self.root / job_id / name
        if path.is_file() or (self.refresh() and path.is_file()):
            return path
        return None

    def link(self, job_id, name, route, expires_at):
        """(url, url_expires_at) of one output: a presigned URL to the bucket's object, or the front
        door's `route`, valid until the result expires (`expires_at`, None while the job runs)."""
        if self.presign is None:
            return route, expires_at
        now = time.time()
        seconds = PRESIGN_MAX_SECONDS if expires_at is None else min(PRESIGN_MAX_SECONDS, expires_at - now)
        if seconds <= 0:
            return None, None
        return self.presign(f"{job_id}/{name}", int(seconds)), now + int(seconds)

    def sweep(self, keep_seconds, now=None):
        """Delete the folders of jobs that finished more than `keep_seconds` ago (and of jobs that died
        while writing, a day later); returns their ids."""
        now = time.time() if now is None else now
        removed = []
        for folder in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if not (folder.is_dir() and JOB_ID.match(folder.name)):
                continue  # not ours
            stamp = folder / FINISHED_STAMP
            try:
                expires = json.loads(stamp.read_text())["finished_at"] + keep_seconds
            except (OSError, ValueError, KeyError):
                expires = folder.stat().st_mtime + keep_seconds + UNFINISHED_GRACE_SECONDS
            if expires < now:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        if removed:
            self.commit()
        return removed


def json_chunks(files, texts):
    """The synchronous route's JSON form (`{"files": [{"filename", "base64"}], "texts": [...]}`) streamed
    from the files, a piece at a time: `files` is [(name, path)]. Memory stays at one piece."""
    yield b'{"files":['
    for i, (name, path) in enumerate(files):
        yield (("," if i else "") + '{"filename":' + json.dumps(name) + ',"base64":"').encode()
        with open(path, "rb") as f:
            while piece := f.read(JSON_CHUNK_BYTES):
                yield base64.b64encode(piece)
        yield b'"}'
    yield b'],"texts":' + json.dumps(texts).encode() + b"}"

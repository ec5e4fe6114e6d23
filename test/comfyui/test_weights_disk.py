"""test/weights/generate.py checks the disk before it writes a random-weight file: with too little room it
stops at once with how much it needs and how much is free (the CI run that ran out of disk got ENOSPC's
traceback minutes in), and writes nothing. The disk's free space is made small by a stand-in for
shutil.disk_usage, in generate.py's own process."""

import json
import subprocess

from conftest import COMFY_PYTHON, ROOT, comfy_tree

RUN_WITH_A_SMALL_DISK = """
import collections, runpy, shutil, sys
shutil.disk_usage = lambda path: collections.namedtuple("usage", "total used free")(10**12, 10**12 - 10**9, 10**9)
sys.argv = ["generate.py", *sys.argv[1:]]
runpy.run_path("{script}", run_name="__main__")
"""


def test_too_little_disk_stops_before_writing_with_what_it_needs(tmp_path):
    manifest = tmp_path / "manifest.json"
    sdxl = {"target": "checkpoints", "filename": "sd_xl_turbo_1.0_fp16.safetensors", "kind": "hf", "sizeGb": 6.94}
    manifest.write_text(json.dumps({"apps": [{"id": "instantid", "models": [{**sdxl, "constructPath": "x"}]}]}))
    script = ROOT / "test" / "weights" / "generate.py"
    run = subprocess.run(
        [COMFY_PYTHON, "-c", RUN_WITH_A_SMALL_DISK.format(script=script), "--manifest", manifest, "--app", "instantid"]
        + ["--out", tmp_path / "models", "--comfy-dir", comfy_tree("0.3.75"), "--only", sdxl["filename"]],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "needs 6.9 GB (+2 GB margin), but only 1.0 GB is free on its disk" in run.stderr, run.stderr
    assert not list((tmp_path / "models").rglob("*.safetensors*")), "nothing is written"

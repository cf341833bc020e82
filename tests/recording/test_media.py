"""Media is stored once per content hash and rebuilt for replay."""

from __future__ import annotations

import base64
import hashlib
import io
import json

from PIL import Image
from recording_helpers import Project

IMAGE_TESTS = """
import base64, io
from PIL import Image

def _image(color):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

def _ask(kimi, color):
    parts = [{"type": "image_url", "image_url": {"url": _image(color)}},
             {"type": "text", "text": "What colour is this image?"}]
    return kimi.chat([{"role": "user", "content": parts}])

def test_first(kimi):
    assert _ask(kimi, (10, 120, 200)).content

def test_second(kimi):
    assert _ask(kimi, (10, 120, 200)).content
"""


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_same_image_shares_one_blob(project: Project) -> None:
    project.write_test(IMAGE_TESTS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=2)
    digest = hashlib.sha256(_png((10, 120, 200))).hexdigest()
    blobs = list((project.root / "cassettes" / "_media").iterdir())
    assert [blob.name for blob in blobs] == [f"{digest}.png"]
    assert blobs[0].read_bytes() == _png((10, 120, 200))
    for path in project.cassettes():
        text = path.read_text()
        assert f"media:image/png;sha256={digest}" in text
        assert base64.b64encode(_png((10, 120, 200))).decode() not in text
        assert "base64," not in json.loads(text)["interactions"][0]["request"]["json"].__repr__()

    project.run("--kimi-record-mode", "none").assert_outcomes(passed=2)


def test_missing_blob_fails_replay(project: Project) -> None:
    project.write_test(IMAGE_TESTS)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=2)
    for blob in (project.root / "cassettes" / "_media").iterdir():
        blob.unlink()
    result = project.run("--kimi-record-mode", "none")
    result.assert_outcomes(errors=2)
    assert "is missing; commit the _media folder" in result.stdout.str()

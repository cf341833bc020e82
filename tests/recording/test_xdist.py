"""Recording and replay with pytest-xdist workers writing cassettes at the same time."""

from __future__ import annotations

from recording_helpers import Project

from pytest_kimi.recording.cassette import Cassette

MANY_TESTS = """
import base64, io
import pytest
from PIL import Image

def _image():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 200, 0)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

@pytest.mark.parametrize("number", range(12))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_many(kimi, number, stream):
    parts = [{"type": "image_url", "image_url": {"url": _image()}},
             {"type": "text", "text": f"What is {number} + {number}?"}]
    assert kimi.chat([{"role": "user", "content": parts}], stream=stream).content
"""


def test_two_workers_record_and_replay(project: Project) -> None:
    project.write_test(MANY_TESTS)
    project.run("-n", "2", "--kimi-record-mode", "once").assert_outcomes(passed=24)
    paths = project.cassettes()
    assert len(paths) == 24
    for path in paths:
        assert len(Cassette.load(path).interactions) == 1
    folder = project.root / "cassettes"
    assert [p.suffix for p in (folder / "_media").iterdir()] == [".png"]
    assert not [p for p in folder.rglob("*.tmp")]

    project.run("-n", "2", "--kimi-record-mode", "none").assert_outcomes(passed=24)

"""Atomic writes, and corrupt or truncated cassettes that fail with the file and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from recording_helpers import Project

from pytest_kimi.recording.errors import CassetteWriteError
from pytest_kimi.recording.files import write_atomic

ONE_CALL = """
def test_one(kimi):
    assert kimi.chat("What is 7 + 7?").content
"""
NAME = "test_one[emulator-thinking]"


def test_failed_rename_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cassette.json"
    write_atomic(path, b'{"old": true}')

    def failing_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(CassetteWriteError, match="previous version of the file is unchanged"):
        write_atomic(path, b'{"new": true}')
    assert path.read_bytes() == b'{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["cassette.json"]


# Cassettes are saved after fixture teardown, so the rename fails for the whole session.
CRASHING_CONFTEST = """
import os

_real_replace = os.replace

def _crashing_replace(source, target, *args, **kwargs):
    if "cassettes" in str(target):
        raise OSError(5, "simulated crash during rename")
    return _real_replace(source, target, *args, **kwargs)

def pytest_sessionstart(session):
    os.replace = _crashing_replace

def pytest_sessionfinish(session):
    os.replace = _real_replace
"""


def test_crash_mid_write_leaves_earlier_cassettes(project: Project) -> None:
    project.write_test(ONE_CALL + ONE_CALL.replace("test_one", "test_two"))
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=2)
    before = {path.name: path.read_bytes() for path in project.cassettes()}

    conftest = project.root / "conftest.py"
    conftest.write_text(conftest.read_text() + CRASHING_CONFTEST)
    result = project.run("--kimi-record-mode", "all")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*cannot write*test_one*simulated crash during rename*"])
    after = {path.name: path.read_bytes() for path in project.cassettes()}
    assert after == before
    leftovers = [p.name for p in (project.root / "cassettes" / "test_model").iterdir()]
    assert sorted(leftovers) == sorted(before)


def test_truncated_cassette_fails_and_is_kept(project: Project) -> None:
    project.write_test(ONE_CALL)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    path = project.cassette(NAME)
    truncated = path.read_bytes()[: len(path.read_bytes()) // 2]
    path.write_bytes(truncated)

    result = project.run("--kimi-record-mode", "none")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert f"cassette {path} is not valid JSON" in output
    assert "--kimi-record-mode all" in output
    assert path.read_bytes() == truncated
    # The default mode calls the emulator live and leaves the cassette alone.
    project.run().assert_outcomes(passed=1)
    assert path.read_bytes() == truncated


def test_cassette_with_wrong_shape_fails(project: Project) -> None:
    project.write_test(ONE_CALL)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    path = project.cassette(NAME)
    path.write_text('{"format": 1, "provenance": {}, "interactions": [{"request": {}}]}')
    result = project.run("--kimi-record-mode", "none")
    result.assert_outcomes(errors=1)
    assert f"cassette {path} does not match the cassette format" in result.stdout.str()


def test_all_mode_replaces_corrupt_cassette(project: Project) -> None:
    project.write_test(ONE_CALL)
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    project.cassette(NAME).write_text("{")
    project.run("--kimi-record-mode", "all").assert_outcomes(passed=1)
    assert len(project.load(NAME).interactions) == 1

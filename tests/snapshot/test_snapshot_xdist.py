"""Snapshot updates and unused-snapshot checks of KimiReplyExtension under pytest-xdist.

syrupy-project/syrupy#1237: workers updating one amber file raced and lost entries.
"""

from __future__ import annotations

import re

import pytest

from pytest_kimi.snapshot.plugin import check_snapshot_update_safe
from tests.snapshot.conftest import PLUGIN_ARGS

CASES = 200

MODULE = """
import pytest
from pytest_kimi.snapshot import kimi_snapshot
from replyhelper import make_reply

VALUE = {value!r}

@pytest.mark.parametrize("i", range({cases}))
def test_case(i, snapshot):
    assert make_reply(content=f"{{VALUE}}-{{i}}") == kimi_snapshot(snapshot)
"""


def _write_module(pytester: pytest.Pytester, value: str) -> None:
    pytester.makepyfile(test_many=MODULE.format(value=value, cases=CASES))


def _stored_entries(pytester: pytest.Pytester) -> tuple[list[str], list[str]]:
    text = (pytester.path / "__snapshots__" / "test_many.ambr").read_text()
    names = re.findall(r"^# name: (.+)$", text, flags=re.MULTILINE)
    contents = re.findall(r'"value": "(v\d-\d+)"', text)
    return names, contents


@pytest.mark.parametrize("workers", ["0", "2", "4"])
def test_update_keeps_every_entry(kimi_pytester: pytest.Pytester, workers: str) -> None:
    _write_module(kimi_pytester, "v1")
    first = kimi_pytester.runpytest_subprocess(*PLUGIN_ARGS, "--snapshot-update", "-n", workers)
    first.assert_outcomes(passed=CASES)
    _write_module(kimi_pytester, "v2")

    result = kimi_pytester.runpytest_subprocess(*PLUGIN_ARGS, "--snapshot-update", "-n", workers)

    result.assert_outcomes(passed=CASES)
    names, contents = _stored_entries(kimi_pytester)
    assert len(names) == CASES
    assert len(set(names)) == CASES
    assert sorted(contents) == sorted(f"v2-{i}" for i in range(CASES))


@pytest.mark.parametrize("workers", ["0", "2"])
def test_unused_entry_fails_run(kimi_pytester: pytest.Pytester, workers: str) -> None:
    _write_module(kimi_pytester, "v1")
    kimi_pytester.runpytest_subprocess(*PLUGIN_ARGS, "--snapshot-update", "-n", workers)
    path = kimi_pytester.path / "__snapshots__" / "test_many.ambr"
    path.write_text(path.read_text() + "# name: test_removed\n  'stale'\n# ---\n")

    result = kimi_pytester.runpytest_subprocess(*PLUGIN_ARGS, "-n", workers)

    result.stdout.fnmatch_lines(["*1 snapshot unused*"])
    assert result.ret != 0


class _Options:
    def __init__(self, update: bool, workers: int | None) -> None:
        self.update_snapshots = update
        self.numprocesses = workers


class _Config:
    def __init__(self, update: bool, workers: int | None) -> None:
        self.option = _Options(update, workers)


def test_unlocked_syrupy_rejects_update(monkeypatch: pytest.MonkeyPatch) -> None:
    import syrupy.utils

    monkeypatch.delattr(syrupy.utils, "exclusive_file_lock")
    with pytest.raises(pytest.UsageError, match="-n 0"):
        check_snapshot_update_safe(_Config(update=True, workers=2))  # type: ignore[arg-type]
    check_snapshot_update_safe(_Config(update=True, workers=0))  # type: ignore[arg-type]
    check_snapshot_update_safe(_Config(update=False, workers=2))  # type: ignore[arg-type]

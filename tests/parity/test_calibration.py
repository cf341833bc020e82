"""Calibration: K runs on the reference route, stored rates, and `assert_calibrated`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_kimi.errors import KimiConfigError
from pytest_kimi.parity.calibration import (
    CalibrationRecorder,
    assert_calibrated,
    calibration_key,
)


def test_key_drops_repeat_and_route() -> None:
    assert calibration_key("t.py::a[ref-thinking-calib3]", "ref") == "t.py::a[thinking]"
    assert calibration_key("t.py::a[vllm-int4-thinking]", "vllm-int4") == "t.py::a[thinking]"
    assert calibration_key("t.py::a[calib0]") == "t.py::a"
    assert calibration_key("t.py::a") == "t.py::a"


def _write(path: Path, outcomes: list[bool], scores: list[float] | None = None) -> None:
    recorder = CalibrationRecorder(path=path, reference_route="ref", runs_requested=len(outcomes))
    for index, passed in enumerate(outcomes):
        recorder.record("t.py::a", passed, 0.1 * (index + 1), scores)
    recorder.write()


def test_assert_calibrated_allows_noise(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    _write(path, [True] * 8 + [False] * 2)
    assert_calibrated("t.py::a", 0.8, path=path)
    assert_calibrated("t.py::a", 0.6, path=path)
    with pytest.raises(AssertionError) as failure:
        assert_calibrated("t.py::a", 0.3, path=path)
    message = str(failure.value)
    assert "observed pass_rate 0.300 is below the calibrated threshold" in message
    assert "reference 0.800 on route 'ref' over 10 runs" in message


def test_assert_calibrated_on_scores(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    _write(path, [True] * 4, scores=[0.9])
    assert_calibrated("t.py::a", 0.9, path=path, metric="score")
    with pytest.raises(AssertionError, match="observed score 0.500"):
        assert_calibrated("t.py::a", 0.5, path=path, metric="score")


def test_missing_entry_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    _write(path, [True])
    with pytest.raises(KimiConfigError, match="--kimi-calibrate K"):
        assert_calibrated("t.py::b", 1.0, path=path)
    with pytest.raises(KimiConfigError, match="not found"):
        assert_calibrated("t.py::a", 1.0, path=tmp_path / "none.json")


def test_write_merges_existing_entries(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"version": 1, "tests": {"t.py::old": {"runs": 1}}}))
    _write(path, [True, False])
    tests = json.loads(path.read_text())["tests"]
    assert set(tests) == {"t.py::old", "t.py::a"}
    assert tests["t.py::a"]["pass_rate"] == 0.5
    assert tests["t.py::a"]["duration_s"]["min"] == pytest.approx(0.1)


CALIBRATE_PYPROJECT = """
[tool.pytest_kimi]
default_routes = ["ref", "other"]
modes = ["instant"]

[tool.pytest_kimi.parity]
reference = "ref"

[tool.pytest_kimi.routes.ref]
emulator = true

[tool.pytest_kimi.routes.other]
flavor = "vllm"
emulator = true
"""

CALIBRATE_TESTS = """
def test_flaky(kimi, request, kimi_calibration):
    assert "391" in kimi.chat("What is 17 * 23?").text
    kimi_calibration.record_score(0.5)
    # runs 0 and 3 fail, so the reference pass rate is 4 / 6
    assert "calib0" not in request.node.nodeid
    assert "calib3" not in request.node.nodeid

def test_steady(kimi):
    assert kimi.chat("What is 2 + 2?").text == "4"
"""

CHECK_TESTS = """
def test_rate(kimi, kimi_calibration):
    kimi_calibration.assert_rate(0.5)
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_calibrate_writes_rates(pytester: pytest.Pytester, workers: str) -> None:
    pytester.makepyprojecttoml(CALIBRATE_PYPROJECT)
    pytester.makepyfile(test_model=CALIBRATE_TESTS)
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_kimi.parity.plugin",
        "--kimi-calibrate",
        "6",
        "-n",
        workers,
        "-p",
        "no:cacheprovider",
    )
    # Workers deselect the other route's runs; only a single process reports the count.
    result.assert_outcomes(passed=10, failed=2, deselected=12 if workers == "0" else 0)
    result.stdout.fnmatch_lines(["*2 test(s) calibrated on route 'ref'*"])
    document = json.loads((pytester.path / ".kimi-calibration.json").read_text())
    assert document["reference_route"] == "ref"
    flaky = document["tests"]["test_model.py::test_flaky[instant]"]
    assert flaky["runs"] == 6
    assert flaky["passed"] == 4
    assert flaky["pass_rate"] == pytest.approx(4 / 6)
    assert flaky["score"]["mean"] == pytest.approx(0.5)
    steady = document["tests"]["test_model.py::test_steady[instant]"]
    assert steady["pass_rate"] == 1.0

    pytester.makepyfile(test_model=CHECK_TESTS.replace("test_rate", "test_flaky"))
    check = pytester.runpytest_subprocess("-p", "pytest_kimi.parity.plugin", "-n", workers)
    check.assert_outcomes(passed=2)

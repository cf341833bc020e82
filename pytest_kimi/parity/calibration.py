"""Calibrated thresholds: pass rates measured on the reference route, stored as JSON.

`pytest --kimi-calibrate K` runs each selected kimi test K times on the
reference route and writes, per test, the runs, passes, pass rate, its
standard error, a seeded bootstrap interval, the duration spread and the
spread of any score the test recorded with `record_score`. Later runs call
`assert_calibrated(test_id, observed)`, which fails below
`rate - k * standard_error`, instead of a hand-picked number.

The file (default `.kimi-calibration.json` in the rootdir) looks like:

    {"version": 1, "reference_route": "moonshot",
     "tests": {"tests/test_x.py::test_y": {"runs": 10, "passed": 9,
               "pass_rate": 0.9, "stderr": 0.1, "ci95": [0.7, 1.0],
               "duration_s": {...}, "score": {...}}}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_kimi.errors import KimiConfigError
from pytest_kimi.parity.stats import bootstrap_ci, rate_standard_error, spread

__all__ = [
    "CALIBRATION_VERSION",
    "DEFAULT_CALIBRATION_FILE",
    "CalibrationRecorder",
    "assert_calibrated",
    "calibration_key",
    "load_calibration",
]

CALIBRATION_VERSION = 1
DEFAULT_CALIBRATION_FILE = ".kimi-calibration.json"
# The user property that carries a test's calibration key from worker to controller.
KEY_PROPERTY = "kimi_calibration_key"
SCORE_PROPERTY = "kimi_score"
REPEAT_ID = re.compile(r"(^|-)calib\d+(?=-|$)")


def calibration_key(nodeid: str, route: str | None = None) -> str:
    """Return `nodeid` without its `calibN` repeat id and, given `route`, the route name.

    A test calibrated on `moonshot` is looked up by the same key when it runs
    on another route: `t.py::test_a[moonshot-thinking-calib3]` (route
    `moonshot`) and `t.py::test_a[vllm-int4-thinking]` (route `vllm-int4`)
    both map to `t.py::test_a[thinking]`.
    """
    base, bracket, params = nodeid.partition("[")
    if not bracket:
        return nodeid
    params = REPEAT_ID.sub("", params.removesuffix("]")).strip("-")
    if route:
        modes = "thinking|instant|preserve"
        params = re.sub(rf"(^|-){re.escape(route)}-(?=({modes})(-|$))", r"\1", params)
    return f"{base}[{params}]" if params else base


@dataclass
class CalibrationRecorder:
    """Collects outcomes per test on the controller and writes the calibration file."""

    path: Path
    reference_route: str
    runs_requested: int
    outcomes: dict[str, list[bool]] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=dict)
    scores: dict[str, list[float]] = field(default_factory=dict)

    def record(
        self, key: str, passed: bool, duration_s: float, scores: list[float] | None = None
    ) -> None:
        """Add one run of the test `key`."""
        self.outcomes.setdefault(key, []).append(passed)
        self.durations.setdefault(key, []).append(duration_s)
        if scores:
            self.scores.setdefault(key, []).extend(scores)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Return the per-test statistics this run measured."""
        tests: dict[str, dict[str, Any]] = {}
        for key, outcomes in sorted(self.outcomes.items()):
            passed = sum(outcomes)
            interval = bootstrap_ci(outcomes)
            tests[key] = {
                "runs": len(outcomes),
                "passed": passed,
                "pass_rate": passed / len(outcomes),
                "stderr": rate_standard_error(passed, len(outcomes)),
                "ci95": [interval.low, interval.high],
                "duration_s": spread(self.durations.get(key, [])),
                "score": spread(self.scores.get(key, [])),
            }
        return tests

    def write(self) -> Path:
        """Merge this run's tests into the file (replacing the same keys) and write it."""
        existing: dict[str, Any] = {}
        if self.path.exists():
            existing = load_calibration(self.path)
        tests = dict(existing.get("tests", {}))
        tests.update(self.summary())
        document = {
            "version": CALIBRATION_VERSION,
            "reference_route": self.reference_route,
            "runs_requested": self.runs_requested,
            "tests": tests,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        return self.path


def load_calibration(path: Path) -> dict[str, Any]:
    """Read and check a calibration file.

    Raises:
        KimiConfigError: the file is missing, not JSON, or of another version.
    """
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise KimiConfigError(
            f"calibration file {path} not found: run the tests with --kimi-calibrate K on the "
            "reference route first."
        ) from None
    except json.JSONDecodeError as exc:
        raise KimiConfigError(f"calibration file {path} is not valid JSON: {exc}") from exc
    if not isinstance(document, Mapping) or document.get("version") != CALIBRATION_VERSION:
        raise KimiConfigError(
            f"calibration file {path} has version {document.get('version')!r}, expected "
            f"{CALIBRATION_VERSION}: calibrate again with --kimi-calibrate K."
        )
    return dict(document)


def assert_calibrated(
    test_id: str,
    observed: float,
    *,
    route: str | None = None,
    path: Path | str = DEFAULT_CALIBRATION_FILE,
    k: float = 2.0,
    metric: str = "pass_rate",
) -> None:
    """Fail when `observed` is below the calibrated value minus `k` standard errors.

    Args:
        test_id: the calibration key, or a node id mapped with `calibration_key`.
        route: the route in the node id, removed from the key.
        observed: the rate or score measured now, from 0 to 1.
        path: the calibration file.
        k: how many standard errors of noise to allow.
        metric: `pass_rate` (the stored pass rate and its standard error) or
            `score` (the mean and standard error of recorded scores).
    """
    __tracebackhide__ = True
    document = load_calibration(Path(path))
    key = calibration_key(test_id, route)
    entry = document.get("tests", {}).get(key)
    if entry is None:
        raise KimiConfigError(
            f"test {key!r} has no entry in calibration file {path}: calibrate it with "
            "--kimi-calibrate K (known: "
            f"{', '.join(sorted(document.get('tests', {}))[:5]) or 'none'})."
        )
    if metric == "pass_rate":
        expected, noise = float(entry["pass_rate"]), float(entry["stderr"])
    elif metric == "score":
        score = entry.get("score")
        if not score:
            raise KimiConfigError(
                f"test {key!r} recorded no score during calibration; call record_score() "
                "in the test, or use metric='pass_rate'."
            )
        runs = max(1, int(entry["runs"]))
        expected, noise = float(score["mean"]), float(score["stdev"]) / runs**0.5
    else:
        raise ValueError(f"metric must be 'pass_rate' or 'score', got {metric!r}")
    threshold = expected - k * noise
    if observed < threshold:
        raise AssertionError(
            f"{key}: observed {metric} {observed:.3f} is below the calibrated threshold "
            f"{threshold:.3f} (reference {expected:.3f} on route "
            f"{document.get('reference_route')!r} over {entry['runs']} runs, minus {k:g} x "
            f"standard error {noise:.3f}; file {path})"
        )

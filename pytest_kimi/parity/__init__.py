"""Route parity, answer stability, calibrated thresholds, shared limits and statistics.

The pytest hooks and fixtures (`kimi_compare`, `kimi_calibration`,
`--kimi-calibrate`, `--kimi-preflight`, the shared limiter and the token
budget) live in `pytest_kimi.parity.plugin`.
"""

from __future__ import annotations

from pytest_kimi.parity.calibration import assert_calibrated, calibration_key
from pytest_kimi.parity.compare import (
    Comparison,
    RouteMetrics,
    assert_parity,
    compare_routes,
    schema_accuracy,
    tool_call_f1,
)
from pytest_kimi.parity.sampling import (
    SampleResult,
    answer_of,
    assert_stable,
    normalize_text,
    resolve_json_pointer,
    sample,
)

__all__ = [
    "Comparison",
    "RouteMetrics",
    "SampleResult",
    "answer_of",
    "assert_calibrated",
    "assert_parity",
    "assert_stable",
    "calibration_key",
    "compare_routes",
    "normalize_text",
    "resolve_json_pointer",
    "sample",
    "schema_accuracy",
    "tool_call_f1",
]

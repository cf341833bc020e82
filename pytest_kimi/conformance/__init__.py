"""The built-in K2.6 conformance pack.

Run it on a route with `pytest --pyargs pytest_kimi.conformance --kimi-route NAME`,
or before a session with `--kimi-preflight`.
"""

from __future__ import annotations

from pytest_kimi.conformance.checks import (
    CHECKS,
    CheckContext,
    CheckSkipped,
    ConformanceFailure,
    expected_reasoning_field,
    tiny_png_data_url,
)
from pytest_kimi.conformance.runner import CheckOutcome, check_context, run_checks

__all__ = [
    "CHECKS",
    "CheckContext",
    "CheckOutcome",
    "CheckSkipped",
    "ConformanceFailure",
    "check_context",
    "expected_reasoning_field",
    "run_checks",
    "tiny_png_data_url",
]

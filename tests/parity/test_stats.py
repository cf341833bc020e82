"""Statistics helpers: percentiles, spread, bootstrap intervals, standard errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_kimi.client.reply import Reply, Timings, Usage
from pytest_kimi.parity.stats import (
    bootstrap_ci,
    percentiles,
    rate_standard_error,
    reply_timing_summary,
    spread,
)


def test_percentiles_match_numpy() -> None:
    values = [0.1 * i for i in range(1, 101)]
    result = percentiles(values)
    assert result["p50"] == pytest.approx(float(np.percentile(values, 50)))
    assert result["p95"] == pytest.approx(float(np.percentile(values, 95)))
    assert result["p99"] == pytest.approx(float(np.percentile(values, 99)))


def test_percentiles_of_nothing_are_none() -> None:
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}


def test_spread_uses_sample_stdev() -> None:
    result = spread([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert result is not None
    assert result["min"] == 2.0
    assert result["max"] == 9.0
    assert result["mean"] == 5.0
    assert result["stdev"] == pytest.approx(2.138, abs=1e-3)


def test_bootstrap_is_seeded() -> None:
    outcomes = [True] * 7 + [False] * 3
    first = bootstrap_ci(outcomes, seed=7)
    second = bootstrap_ci(outcomes, seed=7)
    assert first == second
    assert first.estimate == pytest.approx(0.7)
    assert first.low < 0.7 < first.high


def test_bootstrap_interval_narrows_with_data() -> None:
    small = bootstrap_ci([True, False] * 5)
    large = bootstrap_ci([True, False] * 500)
    assert (large.high - large.low) < (small.high - small.low)


def test_bootstrap_rejects_empty_input() -> None:
    with pytest.raises(ValueError, match="at least one outcome"):
        bootstrap_ci([])


def test_standard_error_never_zero() -> None:
    assert rate_standard_error(10, 10) > 0
    assert rate_standard_error(5, 10) == pytest.approx(math.sqrt(0.5 * 0.5 / 10))


def _reply(total_s: float, first: float | None, rate: float | None) -> Reply:
    return Reply(
        content="x",
        reasoning=None,
        tool_calls=[],
        finish_reason="stop",
        usage=Usage(),
        timings=Timings(total_s=total_s, time_to_first_token_s=first, output_tokens_per_s=rate),
        route="r",
        mode="instant",
        model="m",
        flavor="moonshot",
        streamed=first is not None,
        request={},
        response={},
    )


def test_timing_summary_skips_missing_values() -> None:
    replies = [_reply(1.0, 0.2, 50.0), _reply(3.0, None, None), _reply(2.0, 0.4, 70.0)]
    summary = reply_timing_summary(replies)
    assert summary["count"] == 3
    assert summary["latency_s"] == percentiles([1.0, 3.0, 2.0])
    assert summary["time_to_first_token_s"] == percentiles([0.2, 0.4])
    assert summary["output_tokens_per_s"] == spread([50.0, 70.0])

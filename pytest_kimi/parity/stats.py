"""Latency, throughput and pass-rate statistics, computed with numpy.

Every function takes plain numbers or `Reply` objects and returns plain
floats and dicts, so tests, the parity report and a report writer can all
call them and serialise the result as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pytest_kimi.client.reply import Reply

__all__ = [
    "Interval",
    "bootstrap_ci",
    "percentiles",
    "rate_standard_error",
    "reply_timing_summary",
    "spread",
]

DEFAULT_PERCENTILES = (50.0, 95.0, 99.0)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float

    def as_dict(self) -> dict[str, float]:
        """Return the interval as a JSON-ready dict."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
        }


def percentiles(
    values: Iterable[float], quantiles: Sequence[float] = DEFAULT_PERCENTILES
) -> dict[str, float | None]:
    """Return `{"p50": ..., "p95": ..., "p99": ...}` of `values` (linear interpolation).

    An empty input gives `None` for every percentile instead of raising,
    because a route that never streamed has no time-to-first-token values.
    """
    data = np.asarray([float(v) for v in values], dtype=float)
    keys = [f"p{q:g}" for q in quantiles]
    if data.size == 0:
        return dict.fromkeys(keys)
    found = np.percentile(data, list(quantiles))
    return {key: float(value) for key, value in zip(keys, found, strict=True)}


def spread(values: Iterable[float]) -> dict[str, float] | None:
    """Return min, max, mean and sample standard deviation, or `None` for no values."""
    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0:
        return None
    stdev = float(np.std(data, ddof=1)) if data.size > 1 else 0.0
    return {
        "min": float(data.min()),
        "max": float(data.max()),
        "mean": float(data.mean()),
        "stdev": stdev,
    }


def bootstrap_ci(
    outcomes: Sequence[bool | float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Return the mean of `outcomes` with a seeded percentile-bootstrap interval.

    `outcomes` are pass/fail flags (a pass rate) or scores in [0, 1]. The
    same seed and data always give the same interval.

    Raises:
        ValueError: `outcomes` is empty or `confidence` is not in (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    data = np.asarray([float(v) for v in outcomes], dtype=float)
    if data.size == 0:
        raise ValueError("bootstrap_ci needs at least one outcome; got an empty sequence")
    rng = np.random.default_rng(seed)
    indexes = rng.integers(0, data.size, size=(resamples, data.size))
    means = data[indexes].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(float(data.mean()), float(low), float(high), confidence)


def rate_standard_error(passed: int, runs: int) -> float:
    """Return the standard error of a pass rate, smoothed so 0/n and n/n are not exact.

    Uses the Laplace estimate p = (passed + 1) / (runs + 2), so a reference
    that passed 10 of 10 runs still carries noise instead of demanding 100 %.
    """
    if runs <= 0:
        raise ValueError(f"runs must be positive, got {runs!r}")
    smoothed = (passed + 1) / (runs + 2)
    return math.sqrt(smoothed * (1.0 - smoothed) / runs)


def reply_timing_summary(replies: Iterable[Reply]) -> dict[str, object]:
    """Summarise latency, time to first token and output tokens per second of `replies`.

    Returns a dict with `count`, `latency_s` and `time_to_first_token_s`
    (percentile dicts) and `output_tokens_per_s` (a spread dict or `None`).
    """
    items = list(replies)
    latencies = [reply.timings.total_s for reply in items]
    first_tokens = [
        reply.timings.time_to_first_token_s
        for reply in items
        if reply.timings.time_to_first_token_s is not None
    ]
    rates = [
        reply.timings.output_tokens_per_s
        for reply in items
        if reply.timings.output_tokens_per_s is not None
    ]
    return {
        "count": len(items),
        "latency_s": percentiles(latencies),
        "time_to_first_token_s": percentiles(first_tokens),
        "output_tokens_per_s": spread(rates),
    }

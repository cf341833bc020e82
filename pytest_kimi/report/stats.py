"""Per route and mode statistics of a run: pass counts, latency percentiles, tokens, cost."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelPrice", "RouteStats", "estimate_cost", "percentile", "route_stats"]


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens of one model: uncached prompt, cached prompt and output tokens."""

    prompt: float
    cached: float
    output: float


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile (`fraction` in 0..1), or `None` for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def estimate_cost(usage: Mapping[str, int], price: ModelPrice | None) -> float | None:
    """Return the estimated USD cost of one call, or `None` without a price.

    Cached prompt tokens are billed at the cached price and the rest of the
    prompt at the prompt price. Completion tokens, which include reasoning
    tokens, are billed at the output price.
    """
    if price is None:
        return None
    prompt = usage.get("prompt_tokens", 0)
    cached = min(usage.get("cached_tokens", 0), prompt)
    output = usage.get("completion_tokens", 0)
    total = (prompt - cached) * price.prompt + cached * price.cached + output * price.output
    return total / 1_000_000


@dataclass
class RouteStats:
    """Aggregates of the tests and calls of one route and mode."""

    route: str
    mode: str
    tests: int = 0
    passed: int = 0
    failed: int = 0
    p50_s: float | None = None
    p95_s: float | None = None
    ttft_p50_s: float | None = None
    prompt_tokens: int = 0
    reasoning_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None

    @property
    def pass_rate(self) -> float | None:
        """Passed tests over passed plus failed tests, or `None` when none ran."""
        ran = self.passed + self.failed
        return self.passed / ran if ran else None


def route_stats(
    report: Mapping[str, Any], prices: Mapping[str, ModelPrice] | None = None
) -> list[RouteStats]:
    """Return one `RouteStats` per route and mode in a report, sorted by route and mode.

    A test counts for each route and mode its calls used; a test with no call
    counts under its own `route` and `mode`, and a test with no route is left out.
    """
    table: dict[tuple[str, str], RouteStats] = {}

    def row(route: Any, mode: Any) -> RouteStats:
        key = (str(route or "-"), str(mode or "-"))
        return table.setdefault(key, RouteStats(*key))

    _add_tests(report, row)
    _add_calls(report, row, prices or {})
    return [table[key] for key in sorted(table)]


def _add_tests(report: Mapping[str, Any], row: Any) -> None:
    pairs_by_test: dict[str, set[tuple[Any, Any]]] = {}
    for call in report.get("calls", []):
        pairs_by_test.setdefault(call["test_id"], set()).add((call["route"], call["mode"]))
    for test in report.get("tests", []):
        pairs = pairs_by_test.get(test["test_id"]) or {(test.get("route"), test.get("mode"))}
        for route, mode in pairs:
            if route is None:
                # A test that is not a kimi test (no route, no call) has no row.
                continue
            stats = row(route, mode)
            stats.tests += 1
            stats.passed += test["outcome"] in ("passed", "xfailed")
            stats.failed += test["outcome"] in ("failed", "error", "xpassed")


def _add_calls(report: Mapping[str, Any], row: Any, prices: Mapping[str, ModelPrice]) -> None:
    grouped: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for call in report.get("calls", []):
        grouped.setdefault((call["route"], call["mode"]), []).append(call)
    for (route, mode), calls in grouped.items():
        stats = row(route, mode)
        totals = [call["timings"]["total_s"] for call in calls]
        ttfts = [
            call["timings"]["time_to_first_token_s"]
            for call in calls
            if call["timings"].get("time_to_first_token_s") is not None
        ]
        stats.p50_s, stats.p95_s = percentile(totals, 0.5), percentile(totals, 0.95)
        stats.ttft_p50_s = percentile(ttfts, 0.5)
        stats.prompt_tokens = sum(call["usage"].get("prompt_tokens", 0) for call in calls)
        stats.reasoning_tokens = sum(call["usage"].get("reasoning_tokens", 0) for call in calls)
        stats.output_tokens = sum(call["usage"].get("completion_tokens", 0) for call in calls)
        costs = [estimate_cost(call["usage"], prices.get(call["model"])) for call in calls]
        known = [cost for cost in costs if cost is not None]
        stats.cost_usd = sum(known) if known and len(known) == len(costs) else None

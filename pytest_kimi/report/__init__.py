"""The run report (`--kimi-report`), its terminal summary and the model-upgrade review."""

from __future__ import annotations

from pytest_kimi.report.compare import Review, compare, compare_main
from pytest_kimi.report.keys import CALLS_KEY
from pytest_kimi.report.plugin import ReportPlugin, add_report_options, load_prices
from pytest_kimi.report.records import REPORT_FORMAT, build_report, call_record, load_report
from pytest_kimi.report.stats import ModelPrice, RouteStats, percentile, route_stats

__all__ = [
    "CALLS_KEY",
    "ModelPrice",
    "REPORT_FORMAT",
    "ReportPlugin",
    "Review",
    "RouteStats",
    "add_report_options",
    "build_report",
    "call_record",
    "compare",
    "compare_main",
    "load_prices",
    "load_report",
    "percentile",
    "route_stats",
]

"""`ReportPlugin`: collects model calls per test, writes `--kimi-report` and prints a summary."""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_kimi.client.reply import Reply
from pytest_kimi.report.keys import CALLS_KEY
from pytest_kimi.report.records import build_report, call_record, write_report
from pytest_kimi.report.stats import ModelPrice, RouteStats, route_stats
from pytest_kimi.snapshot.extension import drain_verdicts

__all__ = ["REPORT_ATTRIBUTE", "ReportPlugin", "add_report_options", "load_prices"]

# Name of the TestReport attribute that carries call records from an xdist worker to the
# controller. pytest-xdist serialises every JSON-compatible attribute of a TestReport.
REPORT_ATTRIBUTE = "kimi_calls"

_VERDICTS_KEY = pytest.StashKey[list[dict[str, Any]]]()


def add_report_options(parser: pytest.Parser) -> None:
    """Add `--kimi-report`/`kimi_report` and `--kimi-prices`/`kimi_prices` to the kimi group.

    Order of precedence for each: the command-line option, then the ini key.
    Relative ini paths are read from the rootdir.
    """
    group = parser.getgroup("kimi", "pytest-kimi")
    group.addoption(
        "--kimi-report",
        dest="kimi_report",
        default=None,
        metavar="PATH",
        help="Write the JSON run report (pytest-kimi-report/1) to PATH",
    )
    group.addoption(
        "--kimi-prices",
        dest="kimi_prices",
        default=None,
        metavar="PATH",
        help="JSON file of USD per 1M prompt/cached/output tokens per model, for cost estimates",
    )
    parser.addini("kimi_report", help="Path of the JSON run report", default=None)
    parser.addini("kimi_prices", help="Path of the JSON price table", default=None)


def load_prices(path: Path) -> dict[str, ModelPrice]:
    """Read a price table: `{"<model>": {"prompt": 0.6, "cached": 0.15, "output": 2.5}}`.

    Raises:
        pytest.UsageError: the file is missing, not JSON, or an entry lacks a price.
    """
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise pytest.UsageError(f"cannot read the price table {str(path)!r}: {exc}") from exc
    if not isinstance(table, dict):
        raise pytest.UsageError(f"price table {str(path)!r} must be a JSON object of models")
    prices: dict[str, ModelPrice] = {}
    for model, entry in table.items():
        try:
            prices[model] = ModelPrice(
                prompt=float(entry["prompt"]),
                cached=float(entry["cached"]),
                output=float(entry["output"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise pytest.UsageError(
                f"price table {str(path)!r}: model {model!r} needs numeric 'prompt', "
                f"'cached' and 'output' (USD per 1M tokens), got {entry!r}"
            ) from exc
    return prices


class ReportPlugin:
    """Collect the calls of each test, merge xdist workers, write the report, print a summary.

    On an xdist worker it only attaches call records to each teardown report.
    The controller (or a run without xdist) reads them in
    `pytest_runtest_logreport`, so the report is the same with and without `-n`.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        self.report_path = _configured_path(config, "kimi_report")
        if self.report_path is not None and not self.is_worker:
            _check_writable(self.report_path)
        prices_path = _configured_path(config, "kimi_prices")
        self.prices = load_prices(prices_path) if prices_path else {}
        self.tests: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, list[dict[str, Any]]] = {}
        self.report: dict[str, Any] | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Collect the snapshot verdicts of the test body.

        https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_runtest_call
        """
        drain_verdicts()
        try:
            return (yield)
        finally:
            item.stash[_VERDICTS_KEY] = [verdict.as_dict() for verdict in drain_verdicts()]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Attach the call records of a test to its teardown report.

        https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_runtest_makereport
        """
        report = yield
        if report.when == "teardown":
            replies: list[Reply] = item.stash.get(CALLS_KEY, [])
            verdicts = item.stash.get(_VERDICTS_KEY, [])
            records = [call_record(reply, item.nodeid, verdicts) for reply in replies]
            setattr(report, REPORT_ATTRIBUTE, records)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record the outcome, duration and calls of each test phase.

        https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_runtest_logreport
        """
        test = self.tests.setdefault(
            report.nodeid,
            {
                "duration_s": 0.0,
                "mode": None,
                "outcome": "passed",
                "route": None,
                "test_id": report.nodeid,
            },
        )
        test["duration_s"] += report.duration
        test["outcome"] = _merge_outcome(test["outcome"], report)
        records = getattr(report, REPORT_ATTRIBUTE, None)
        if report.when == "teardown" and records:
            self.calls[report.nodeid] = list(records)
            test["route"] = _joined(record["route"] for record in records)
            test["mode"] = _joined(record["mode"] for record in records)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Build the report and write it when `--kimi-report` is set.

        https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_sessionfinish
        """
        if self.is_worker:
            return
        calls: list[dict[str, Any]] = []
        for nodeid, records in self.calls.items():
            outcome = self.tests.get(nodeid, {}).get("outcome")
            calls.extend({**record, "outcome": outcome} for record in records)
        self.report = build_report(calls, list(self.tests.values()))
        if self.report_path is not None:
            write_report(self.report, self.report_path)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print one line per route and mode when the run made any model call.

        https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_terminal_summary
        """
        if self.is_worker or self.report is None or not self.report["calls"]:
            return
        terminalreporter.write_sep("-", "pytest-kimi summary")
        if self.report["header"]["notice"]:
            terminalreporter.write_line(self.report["header"]["notice"])
        for stats in route_stats(self.report, self.prices):
            terminalreporter.write_line(format_stats_line(stats))
        if self.report_path is not None:
            terminalreporter.write_line(f"report written to {self.report_path}")


def format_stats_line(stats: RouteStats) -> str:
    """Return the summary line of one route and mode."""
    cost = "cost: n/a" if stats.cost_usd is None else f"cost: ${stats.cost_usd:.4f} (estimate)"
    return (
        f"{stats.route} / {stats.mode}: {stats.tests} test{'' if stats.tests == 1 else 's'}, "
        f"{stats.passed} passed, "
        f"{stats.failed} failed, p50 {_seconds(stats.p50_s)}, p95 {_seconds(stats.p95_s)}, "
        f"tokens {stats.prompt_tokens} prompt / {stats.output_tokens} output, {cost}"
    )


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}s"


def _joined(values: Any) -> str:
    return ",".join(sorted({str(value) for value in values}))


def _merge_outcome(current: str, report: pytest.TestReport) -> str:
    """Combine the outcome so far with one phase report, the way pytest counts a test."""
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if xfail:
            return "xfailed" if report.skipped else "xpassed"
        return str(report.outcome)
    if report.failed:
        return "error" if current in ("passed", "xfailed", "skipped") else current
    if report.skipped and report.when == "setup":
        return "skipped"
    return current


def _configured_path(config: pytest.Config, name: str) -> Path | None:
    option: str | None = config.getoption(name, default=None)
    if option:
        return Path(option).resolve()
    ini: Any = config.getini(name)
    if ini:
        return (config.rootpath / str(ini)).resolve()
    return None


def _check_writable(path: Path) -> None:
    """Reject a report path that cannot be written, before any test runs."""
    if path.is_dir():
        raise pytest.UsageError(
            f"--kimi-report {str(path)!r} is a directory: pass a file path such as "
            f"{str(path / 'kimi-report.json')!r}."
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(
            f"--kimi-report {str(path)!r}: cannot create the folder {str(parent)!r} "
            f"({exc.strerror}). Pick another path."
        ) from None
    if not os.access(parent, os.W_OK):
        raise pytest.UsageError(
            f"--kimi-report {str(path)!r}: the folder {str(parent)!r} is not writable. "
            "Pick another path."
        )

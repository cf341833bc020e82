"""ReportPlugin in real pytest runs, with and without pytest-xdist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_kimi.report import REPORT_FORMAT, load_prices
from pytest_kimi.report.stats import ModelPrice, estimate_cost, percentile
from tests.report.conftest import PLUGIN_ARGS


def _run(pytester: pytest.Pytester, workers: str, *extra: str) -> pytest.RunResult:
    pytester.runpytest_subprocess(*PLUGIN_ARGS, "--snapshot-update", "-n", "0")
    return pytester.runpytest_subprocess(*PLUGIN_ARGS, "-n", workers, *extra)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_report_merges_workers(report_pytester: pytest.Pytester, workers: str) -> None:
    result = _run(report_pytester, workers, "--kimi-report", "out/report.json")
    result.assert_outcomes(passed=6, failed=1)
    report = json.loads((report_pytester.path / "out" / "report.json").read_text())

    assert report["format"] == REPORT_FORMAT
    assert len(report["calls"]) == 6
    assert {test["test_id"].split("::")[1] for test in report["tests"]} >= {
        "test_fail",
        "test_no_calls",
    }
    outcomes = {test["test_id"].split("::")[1]: test["outcome"] for test in report["tests"]}
    assert outcomes["test_fail"] == "failed"
    assert outcomes["test_pass[2]"] == "passed"
    failing_call = next(call for call in report["calls"] if call["route"] == "vllm")
    assert failing_call["outcome"] == "failed"
    assert failing_call["images"] == ["data:image/png;base64,iVBORw0KGgo="]
    assert failing_call["reasoning_chars"] == 7
    assert failing_call["tool_calls"][0]["name"] == "lookup"
    snapshot_call = next(call for call in report["calls"] if call["content"] == "snap")
    assert snapshot_call["snapshot_verdicts"][0]["matched"] is True


def test_header_flags_emulated_route(report_pytester: pytest.Pytester) -> None:
    _run(report_pytester, "2", "--kimi-report", "report.json")
    header = json.loads((report_pytester.path / "report.json").read_text())["header"]
    routes = {route["route"]: route["emulated"] for route in header["routes"]}
    assert routes == {"official": False, "vllm": True}
    assert "not Kimi K2.6 output" in header["notice"]


def test_summary_line_per_route(report_pytester: pytest.Pytester) -> None:
    result = _run(report_pytester, "2")
    result.stdout.fnmatch_lines(
        [
            "*pytest-kimi summary*",
            "official / thinking: 5 tests, 5 passed, 0 failed, p50 2.00s, p95 4.00s, "
            "tokens 500 prompt / 100 output, cost: n/a",
            "vllm / thinking: 1 test, 0 passed, 1 failed, *",
        ]
    )


def test_summary_cost_with_prices(report_pytester: pytest.Pytester) -> None:
    prices = {"kimi-k2.6": {"prompt": 1.0, "cached": 0.5, "output": 10.0}}
    (report_pytester.path / "prices.json").write_text(json.dumps(prices))
    report_pytester.makeini("[pytest]\nkimi_prices = prices.json\n")
    result = _run(report_pytester, "0")
    # Per call: 60 * 1.0 + 40 * 0.5 + 20 * 10.0 = 280 USD per 1M tokens; 5 calls.
    result.stdout.fnmatch_lines(["official / thinking: *cost: $0.0014 (estimate)"])


def test_bad_price_table(report_pytester: pytest.Pytester) -> None:
    (report_pytester.path / "prices.json").write_text('{"kimi-k2.6": {"prompt": 1}}')
    result = report_pytester.runpytest_subprocess(*PLUGIN_ARGS, "--kimi-prices", "prices.json")
    result.stderr.fnmatch_lines(["*model 'kimi-k2.6' needs numeric 'prompt', 'cached'*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0


def test_cost_counts_cached_tokens() -> None:
    price = ModelPrice(prompt=2.0, cached=1.0, output=4.0)
    usage = {"prompt_tokens": 1_000_000, "cached_tokens": 400_000, "completion_tokens": 500_000}
    assert estimate_cost(usage, price) == pytest.approx(1.2 + 0.4 + 2.0)
    assert estimate_cost(usage, None) is None


def test_load_prices_reads_table(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"m": {"prompt": 1, "cached": 0.25, "output": 3}}')
    assert load_prices(path) == {"m": ModelPrice(1.0, 0.25, 3.0)}

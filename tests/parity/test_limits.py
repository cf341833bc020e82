"""Shared limits and the token budget: files in a run directory, held across processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.errors import KimiConfigError
from pytest_kimi.parity.limits import (
    LimitedTransport,
    RouteLimits,
    SharedLimiter,
    TokenBudget,
    budget_from_settings,
)

ClientFactory = Callable[..., KimiClient]

WORKER = """
import sys, time
from pathlib import Path
from pytest_kimi.parity.limits import RouteLimits, SharedLimiter
limiter = SharedLimiter(Path(sys.argv[1]))
for _ in range(5):
    limiter.acquire("r", RouteLimits(max_concurrency=2))
    time.sleep(0.01)
    limiter.release("r")
"""


def test_concurrency_holds_across_processes(tmp_path: Path) -> None:
    processes = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path)]) for _ in range(4)]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0, 0]
    stats = SharedLimiter(tmp_path).stats("r")
    assert stats["total"] == 20
    assert 1 <= stats["peak"] <= 2


def test_requests_per_minute_window(tmp_path: Path) -> None:
    now = [1000.0]
    limiter = SharedLimiter(tmp_path, clock=lambda: now[0])
    limits = RouteLimits(max_concurrency=10, requests_per_minute=3)
    for _ in range(3):
        assert limiter._try_acquire("r", limits) == 0.0
        limiter.release("r")
    wait = limiter._try_acquire("r", limits)
    assert wait == pytest.approx(60.0)
    now[0] += 61.0
    assert limiter._try_acquire("r", limits) == 0.0


def test_dead_process_slot_is_dropped(tmp_path: Path) -> None:
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from pytest_kimi.parity.limits import RouteLimits, SharedLimiter; "
            "SharedLimiter(Path(sys.argv[1])).acquire('r', RouteLimits(max_concurrency=1))",
            str(tmp_path),
        ],
        check=True,
    )
    assert process.returncode == 0
    limiter = SharedLimiter(tmp_path)
    assert limiter._try_acquire("r", RouteLimits(max_concurrency=1)) == 0.0


def test_transport_frees_slot_after_stream(make_client: ClientFactory, tmp_path: Path) -> None:
    limiter = SharedLimiter(tmp_path)

    def wrap(inner: object) -> LimitedTransport:
        return LimitedTransport(
            inner,  # type: ignore[arg-type]
            route="r",
            limiter=limiter,
            limits=RouteLimits(max_concurrency=1),
        )

    client = make_client("moonshot", "instant", transport_wrapper=wrap)
    for stream in (False, True, False):
        assert "391" in client.chat("What is 17 * 23?", stream=stream).text
    assert limiter.stats("r") == {"peak": 1, "total": 3}
    assert limiter._try_acquire("r", RouteLimits(max_concurrency=1)) == 0.0


def test_budget_counts_tokens_and_cost(tmp_path: Path) -> None:
    budget = budget_from_settings(
        {"max_tokens": 100, "prompt_usd_per_mtok": 1.0, "completion_usd_per_mtok": 4.0}, tmp_path
    )
    assert budget is not None
    assert budget.exceeded() is None
    budget.add(40, 20)
    assert budget.exceeded() is None
    totals = budget.add(30, 10)
    assert totals["tokens"] == 100
    assert totals["cost_usd"] == pytest.approx((70 * 1.0 + 30 * 4.0) / 1e6)
    message = budget.exceeded()
    assert message is not None
    assert "100 tokens used, max_tokens is 100" in message


def test_cost_budget(tmp_path: Path) -> None:
    budget = TokenBudget(tmp_path, max_cost_usd=0.001, completion_usd_per_mtok=1000.0)
    budget.add(0, 2)
    assert budget.exceeded() is not None


def test_budget_settings_are_validated(tmp_path: Path) -> None:
    assert budget_from_settings(None, tmp_path) is None
    with pytest.raises(KimiConfigError, match="unknown key"):
        budget_from_settings({"max_tokenz": 1}, tmp_path)
    with pytest.raises(KimiConfigError, match="expected a number"):
        budget_from_settings({"max_tokens": "lots"}, tmp_path)


BUDGET_PYPROJECT = """
[tool.pytest_kimi]
default_routes = ["emulator"]
modes = ["instant"]

[tool.pytest_kimi.budget]
max_tokens = 1
"""

BUDGET_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_call(kimi, n):
    assert kimi.chat("What is 17 * 23?").text
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_budget_stops_session(pytester: pytest.Pytester, workers: str) -> None:
    pytester.makepyprojecttoml(BUDGET_PYPROJECT)
    pytester.makepyfile(test_budget=BUDGET_TESTS)
    result = pytester.runpytest_subprocess("-p", "pytest_kimi.parity.plugin", "-n", workers)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*pytest-kimi token budget exceeded*max_tokens is 1*"])
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) <= int(workers or 1) + 1
    assert outcomes.get("failed", 0) == 0


RPM_PYPROJECT = """
[tool.pytest_kimi]
default_routes = ["limited"]
modes = ["instant"]

[tool.pytest_kimi.routes.limited]
emulator = true
max_concurrency = 1
requests_per_minute = 1000
"""

RPM_TESTS = """
import pytest
from pytest_kimi.parity.plugin import PARITY_KEY

@pytest.mark.parametrize("n", range(6))
def test_call(kimi, n, pytestconfig):
    assert kimi.chat("What is 17 * 23?").text
    stats = pytestconfig.stash[PARITY_KEY].limiter.stats("limited")
    assert stats["peak"] == 1
    assert stats["total"] >= 1
"""


def test_limits_apply_to_kimi_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RPM_PYPROJECT)
    pytester.makepyfile(test_rpm=RPM_TESTS)
    result = pytester.runpytest_subprocess("-p", "pytest_kimi.parity.plugin", "-n", "2")
    result.assert_outcomes(passed=6)

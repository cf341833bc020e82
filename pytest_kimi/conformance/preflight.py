"""The session pre-flight: run the conformance checks before any test runs.

One failed check on a selected route stops the session with a single
message that lists every failed check, instead of letting hundreds of
tests fail for the same route problem.
"""

from __future__ import annotations

import pytest

from pytest_kimi.conformance.runner import CheckOutcome, run_checks
from pytest_kimi.state import STATE_KEY

__all__ = ["preflight_message", "preflight_outcomes"]


def preflight_outcomes(config: pytest.Config) -> list[CheckOutcome]:
    """Run every check on every selected route that can be reached.

    A live route without an API key is reported as skipped, since the
    tests on it will skip for the same reason.
    """
    state = config.stash[STATE_KEY]
    outcomes: list[CheckOutcome] = []
    for name in state.selected_routes:
        route = state.settings.route(name)
        if not route.is_emulator and route.requires_key and route.api_key() is None:
            outcomes.append(
                CheckOutcome(name, "*", "skipped", "no API key; the route's tests skip too")
            )
            continue
        outcomes.extend(run_checks(config, name))
    return outcomes


def preflight_message(config: pytest.Config) -> str | None:
    """Return the stop message when a check failed, else `None`."""
    failed = [outcome for outcome in preflight_outcomes(config) if outcome.status == "failed"]
    if not failed:
        return None
    routes = ", ".join(dict.fromkeys(repr(outcome.route) for outcome in failed))
    lines = [
        f"pytest-kimi pre-flight failed on route(s) {routes}: {len(failed)} conformance "
        "check(s) failed, so the session stops before running tests."
    ]
    lines.extend(f"  - {outcome.check}: {outcome.message}" for outcome in failed)
    lines.append(
        "Fix the route (server flags, proxy, route settings), or run without --kimi-preflight; "
        "details: pytest --pyargs pytest_kimi.conformance --kimi-route NAME."
    )
    return "\n".join(lines)

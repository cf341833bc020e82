"""Run the conformance checks on a route, for the pytest pack and the pre-flight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_kimi.conformance.checks import (
    CHECKS,
    CheckContext,
    CheckSkipped,
    ConformanceFailure,
    expected_reasoning_field,
)
from pytest_kimi.errors import KimiError
from pytest_kimi.parity.clients import make_client
from pytest_kimi.state import STATE_KEY

if TYPE_CHECKING:
    import pytest

    from pytest_kimi.client.client import KimiClient

__all__ = ["CheckOutcome", "check_context", "run_checks"]


def check_context(
    config: pytest.Config, route_name: str, item: pytest.Item | None = None
) -> CheckContext:
    """Return the context the checks need for `route_name`, with health checks off."""
    settings = config.stash[STATE_KEY].settings
    route = settings.route(route_name)

    def client(mode: str, *, stream: bool | None = None) -> KimiClient:
        return make_client(
            config, route_name, mode, item=item, health_checks=False, stream=bool(stream)
        )

    conformance: Any = settings.extra.get("conformance")
    return CheckContext(
        route=route,
        client=client,
        reasoning_field=expected_reasoning_field(route, conformance),
    )


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check on one route: `passed`, `failed` or `skipped`."""

    route: str
    check: str
    status: str
    message: str = ""


def run_checks(
    config: pytest.Config, route_name: str, names: list[str] | None = None
) -> list[CheckOutcome]:
    """Run the checks in `names` (all by default) on `route_name` and collect outcomes.

    A check that raises something other than a conformance failure (for
    example a transport error) is reported as failed with that error.
    """
    context = check_context(config, route_name)
    outcomes: list[CheckOutcome] = []
    for name in names or list(CHECKS):
        try:
            CHECKS[name](context)
        except CheckSkipped as skipped:
            outcomes.append(CheckOutcome(route_name, name, "skipped", str(skipped)))
        except (ConformanceFailure, KimiError) as exc:
            outcomes.append(CheckOutcome(route_name, name, "failed", str(exc)))
        else:
            outcomes.append(CheckOutcome(route_name, name, "passed"))
    return outcomes

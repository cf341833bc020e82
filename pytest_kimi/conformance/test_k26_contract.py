"""The K2.6 contract as pytest tests: one test per check and selected route.

Collected by `pytest --pyargs pytest_kimi.conformance --kimi-route NAME`.
"""

from __future__ import annotations

import pytest

from pytest_kimi.conformance.checks import CHECKS, CheckSkipped
from pytest_kimi.conformance.runner import check_context
from pytest_kimi.state import STATE_KEY


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `test_contract` over the selected routes and every check."""
    if metafunc.function.__name__ != "test_contract":
        return
    routes = metafunc.config.stash[STATE_KEY].selected_routes
    params = [
        pytest.param(route, name, id=f"{route}-{name}") for route in routes for name in CHECKS
    ]
    metafunc.parametrize(("route_name", "check_name"), params)


def test_contract(request: pytest.FixtureRequest, route_name: str, check_name: str) -> None:
    """Run one K2.6 contract check on one route."""
    __tracebackhide__ = True
    context = check_context(request.config, route_name, item=request.node)
    try:
        CHECKS[check_name](context)
    except CheckSkipped as skipped:
        pytest.skip(str(skipped))

"""Build the pair of clients a migration test needs, from the run's configured routes."""

from __future__ import annotations

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.factory import make_client

__all__ = ["protocol_client", "protocol_clients"]


def protocol_client(request: pytest.FixtureRequest, route_name: str, mode: str) -> KimiClient:
    """Return a client for `route_name` in `mode`, built as the `kimi` fixture builds one.

    Record/replay transport hooks apply, replies are added to the test's
    calls, and the client is closed at teardown. A live route without an API
    key skips the test.
    """
    client = make_client(request.config, route_name, mode, item=request.node)
    request.addfinalizer(client.close)
    return client


def protocol_clients(
    request: pytest.FixtureRequest,
    *,
    openai_route: str = "emulator",
    anthropic_route: str = "emulator-anthropic",
    mode: str = "thinking",
) -> tuple[KimiClient, KimiClient]:
    """Return clients for an OpenAI-protocol route and an Anthropic-protocol route."""
    return (
        protocol_client(request, openai_route, mode),
        protocol_client(request, anthropic_route, mode),
    )

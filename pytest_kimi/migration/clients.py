"""Build the pair of clients a migration test needs, from the run's configured routes."""

from __future__ import annotations

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.transport import RetryPolicy
from pytest_kimi.state import CALLS_KEY, STATE_KEY

__all__ = ["protocol_client", "protocol_clients"]


def protocol_client(request: pytest.FixtureRequest, route_name: str, mode: str) -> KimiClient:
    """Return a client for `route_name` in `mode`, built as the `kimi` fixture builds one.

    Record/replay transport hooks apply, replies are added to the test's
    calls, and the client is closed at teardown. A live route without an API
    key skips the test.
    """
    state = request.config.stash[STATE_KEY]
    settings = state.settings
    route = settings.route(route_name)
    wrapper = None
    for hook in state.transport_hooks:
        wrapper = hook(request.node, route, mode) or wrapper
    api_key = route.api_key()
    if not route.is_emulator and api_key is None and wrapper is None:
        pytest.skip(
            f"route {route.name!r} needs an API key: {' or '.join(route.key_env_names())} is "
            "not set. Export it to run live, or compare emulator routes."
        )
    calls = request.node.stash.setdefault(CALLS_KEY, [])
    client = KimiClient(
        state.resolve(route),
        mode,
        api_key=api_key,
        timeout_s=route.timeout_s or settings.timeout_s,
        retry=RetryPolicy(
            max_retries=route.max_retries
            if route.max_retries is not None
            else settings.max_retries,
            backoff_s=settings.retry_backoff_s,
            max_backoff_s=settings.retry_max_backoff_s,
        ),
        stream=state.stream if state.stream is not None else settings.stream,
        health_checks=settings.health_checks,
        transport_wrapper=wrapper,
        on_reply=calls.append,
    )
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

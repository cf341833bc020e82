"""Build a `KimiClient` for any route the way the `kimi` fixture does.

The fixture, route comparison, migration checks and the conformance pack
all need clients with the run's timeouts, retries, transport hooks (record
and replay, shared rate limits) and the test's reply log; they all come from
`make_client`.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx2
import pytest

from pytest_kimi.client.client import KimiClient, TransportWrapper
from pytest_kimi.client.transport import RetryPolicy
from pytest_kimi.config.routes import Route
from pytest_kimi.state import CALLS_KEY, STATE_KEY, KimiState

__all__ = [
    "OFFLINE_ATTRIBUTE",
    "REPLAYS_ATTRIBUTE",
    "compose_wrappers",
    "make_client",
    "transport_wrappers",
]

# A transport wrapper with `offline` set never calls the network, so an emulator
# route needs no emulator; one with `replays` set also has recordings to serve,
# so a live route needs no API key.
OFFLINE_ATTRIBUTE = "offline"
REPLAYS_ATTRIBUTE = "replays"


def transport_wrappers(
    state: KimiState, item: pytest.Item | None, route: Route, mode: str
) -> list[TransportWrapper]:
    """Return the wrappers the transport hooks give for this item, in hook order."""
    if item is None:
        return []
    wrappers = []
    for hook in state.transport_hooks:
        wrapper = hook(item, route, mode)
        if wrapper is not None:
            wrappers.append(wrapper)
    return wrappers


def compose_wrappers(wrappers: Sequence[TransportWrapper]) -> TransportWrapper | None:
    """Return one wrapper applying `wrappers` in order (the first wraps the real transport)."""
    if not wrappers:
        return None

    def wrap(transport: httpx2.BaseTransport) -> httpx2.BaseTransport:
        for wrapper in wrappers:
            transport = wrapper(transport)
        return transport

    return wrap


def make_client(
    config: pytest.Config,
    route_name: str,
    mode: str,
    *,
    item: pytest.Item | None = None,
    health_checks: bool | None = None,
    stream: bool | None = None,
    skip_without_key: bool = True,
) -> KimiClient:
    """Return a client for `route_name` in `mode`, configured like the `kimi` fixture.

    Args:
        config: the pytest config, which contains the run's settings and emulator.
        route_name: a route from `[tool.pytest_kimi.routes]` or a built-in one.
        mode: `thinking`, `instant` or `preserve`.
        item: the test item; its transport hooks apply and its reply log
            (read by reports) receives every reply.
        health_checks: override the run's `health_checks` setting.
        stream: override the run's stream setting.
        skip_without_key: skip the test when a live route has no API key and
            no offline transport (a replayed cassette) serves it.

    Raises:
        KimiConfigError: the route or mode is unknown.
    """
    state = config.stash[STATE_KEY]
    settings = state.settings
    route = settings.route(route_name)
    wrappers = transport_wrappers(state, item, route, mode)
    api_key = route.api_key()
    offline = any(getattr(wrapper, OFFLINE_ATTRIBUTE, False) for wrapper in wrappers)
    replays = any(getattr(wrapper, REPLAYS_ATTRIBUTE, False) for wrapper in wrappers)
    needs_key = route.requires_key and not route.is_emulator
    if skip_without_key and needs_key and api_key is None and not replays:
        names = " or ".join(route.key_env_names())
        pytest.skip(
            f"route {route.name!r} needs an API key: {names} is not set. Export it to run "
            "live, or run on the emulator with --kimi-route emulator."
        )
    calls = item.stash.setdefault(CALLS_KEY, []) if item is not None else None
    if stream is None:
        stream = state.stream if state.stream is not None else settings.stream
    max_retries = route.max_retries if route.max_retries is not None else settings.max_retries
    if route.is_emulator and offline:
        from pytest_kimi.recording import replay_base_url

        resolved = route.with_base_url(replay_base_url(route))
    else:
        resolved = state.resolve(route)
    return KimiClient(
        resolved,
        mode,
        api_key=api_key,
        timeout_s=route.timeout_s or settings.timeout_s,
        retry=RetryPolicy(
            max_retries=max_retries,
            backoff_s=settings.retry_backoff_s,
            max_backoff_s=settings.retry_max_backoff_s,
        ),
        stream=bool(stream),
        health_checks=settings.health_checks if health_checks is None else health_checks,
        transport_wrapper=compose_wrappers(wrappers),
        on_reply=calls.append if calls is not None else None,
    )

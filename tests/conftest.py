"""Shared fixtures for pytest-kimi's own tests."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpcore2  # noqa: F401
import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.transport import RetryPolicy
from pytest_kimi.config.routes import route_from_table
from pytest_kimi.emulator.embedded import start_embedded_emulator
from pytest_kimi.emulator.profile import Profile
from pytest_kimi.emulator.server import EmulatorServer

# pytester's in-process runs drop the modules first imported inside them; httpcore2
# is imported here so that httpx2 keeps matching its exception classes afterwards.
pytest_plugins = ["pytester"]

ClientFactory = Callable[..., KimiClient]


@pytest.fixture(scope="session")
def emulator_server() -> Generator[EmulatorServer]:
    """One emulator per worker, on 127.0.0.1."""
    server = start_embedded_emulator()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Generator[EmulatorServer]:
    """The shared emulator with this test's scripts removed afterwards."""
    start = len(emulator_server.requests)
    before = list(emulator_server.scripts._scripts)
    yield emulator_server
    emulator_server.scripts._scripts[:] = before
    del emulator_server.requests[start:]


@pytest.fixture
def make_client(emulator: EmulatorServer) -> Generator[ClientFactory]:
    """Build a `KimiClient` for an emulator profile, closing it at teardown."""
    clients: list[KimiClient] = []

    def build(
        flavor: str = "moonshot",
        mode: str = "thinking",
        *,
        profile: Profile | None = None,
        route_options: dict[str, object] | None = None,
        **client_options: object,
    ) -> KimiClient:
        name = f"{flavor}-{len(clients)}-{id(clients)}"
        profile = profile or Profile(**_profile_defaults(flavor))
        base = emulator.add_profile(name, profile)
        table: dict[str, object] = {"flavor": flavor, "base_url": base, "model": profile.model}
        table.update(route_options or {})
        route = route_from_table(name, table, source="test")
        options: dict[str, object] = {"retry": RetryPolicy(max_retries=2, backoff_s=0.01)}
        options.update(client_options)
        client = KimiClient(route, mode, **options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def _profile_defaults(flavor: str) -> dict[str, object]:
    from pytest_kimi.emulator.profile import BUILTIN_PROFILES

    base = BUILTIN_PROFILES.get(flavor, Profile())
    return dict(base.__dict__)

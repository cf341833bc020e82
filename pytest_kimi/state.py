"""Per-run state of the plugin, stored in `config.stash`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from pytest_kimi.client.reply import Reply
from pytest_kimi.config.routes import Route
from pytest_kimi.config.settings import Settings

if TYPE_CHECKING:
    from pytest_kimi.client.client import TransportWrapper
    from pytest_kimi.emulator.server import EmulatorServer

__all__ = ["CALLS_KEY", "STATE_KEY", "KimiState", "Target", "TransportHook"]

# Given the test item, the route and the mode, return a transport wrapper or None.
TransportHook = Callable[[pytest.Item, Route, str], "TransportWrapper | None"]


@dataclass(frozen=True)
class Target:
    """One (route, mode) pair a test runs on."""

    route: str
    mode: str

    @property
    def id(self) -> str:
        """The parametrize id, for example `moonshot-thinking`."""
        return f"{self.route}-{self.mode}"


@dataclass
class KimiState:
    """Everything the plugin keeps for one pytest run (one per xdist worker)."""

    settings: Settings
    selected_routes: list[str]
    selected_modes: list[str]
    stream: bool | None = None
    emulator_scripts: list[Any] = field(default_factory=list)
    transport_hooks: list[TransportHook] = field(default_factory=list)
    _emulator: EmulatorServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def emulator(self) -> EmulatorServer:
        """Start the embedded emulator on first use and return it."""
        with self._lock:
            if self._emulator is None:
                from pytest_kimi.emulator.embedded import start_embedded_emulator

                self._emulator = start_embedded_emulator(self.emulator_scripts)
            return self._emulator

    def resolve(self, route: Route) -> Route:
        """Return `route` with its real base URL (emulator routes get a port now)."""
        if not route.is_emulator:
            return route
        from pytest_kimi.emulator.profile import profile_from_options

        server = self.emulator()
        profile = profile_from_options(route.flavor, route.model, dict(route.emulator or {}))
        return route.with_base_url(server.add_profile(route.name, profile))

    def close(self) -> None:
        """Stop the emulator if it was started."""
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None


STATE_KEY = pytest.StashKey[KimiState]()
CALLS_KEY = pytest.StashKey[list[Reply]]()

"""Objects handed to tests by the plugin's fixtures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_kimi.emulator.profile import Profile
from pytest_kimi.emulator.scripts import Fault, Script, ScriptedReply
from pytest_kimi.emulator.server import EmulatorServer, ReceivedRequest

__all__ = ["EmulatorHandle"]


class EmulatorHandle:
    """A test's view of the embedded emulator (the `kimi_emulator` fixture)."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self._start = len(server.requests)
        self._scripts: list[Script] = []

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Requests received since this test started, oldest first."""
        return self.server.requests[self._start :]

    @property
    def last_body(self) -> Any:
        """The JSON body of the latest request; fails when there was none."""
        if not self.requests:
            raise AssertionError("the emulator has received no request in this test")
        return self.requests[-1].body

    def base_url(self, profile: str = "moonshot") -> str:
        """The OpenAI-style base URL of a profile, for clients the test builds itself."""
        return self.server.base_url(profile)

    def add_profile(self, name: str, profile: Profile) -> str:
        """Register an extra profile and return its base URL."""
        return self.server.add_profile(name, profile)

    def script(
        self,
        *,
        match: Mapping[str, Any] | None = None,
        reply: ScriptedReply | Mapping[str, Any] | None = None,
        fault: Fault | Mapping[str, Any] | None = None,
        times: int | None = None,
        name: str = "",
    ) -> Script:
        """Add a scripted reply or fault for the rest of this test."""
        script = self.server.script(match=match, reply=reply, fault=fault, times=times, name=name)
        self._scripts.append(script)
        return script

    def close(self) -> None:
        """Remove this test's scripts."""
        for script in self._scripts:
            self.server.scripts.remove(script)
        self._scripts.clear()

"""Start the emulator with the media checks and ground-truth reader wired in."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_kimi.emulator.anthropic import register_anthropic
from pytest_kimi.emulator.scripts import Script
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.media.truth import truth_lines
from pytest_kimi.media.validation import check_content_part

__all__ = ["start_embedded_emulator"]


def start_embedded_emulator(scripts: Iterable[Script] = (), *, port: int = 0) -> EmulatorServer:
    """Start an emulator on 127.0.0.1 (a free port unless `port` is given).

    Scripts are tried in the order given.
    """
    server = EmulatorServer(port=port, media_check=check_content_part, truth_reader=truth_lines)
    register_anthropic(server)
    for script in reversed(list(scripts)):
        server.scripts.add(script)
    return server.start()

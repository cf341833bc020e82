"""Start the emulator with the media checks and ground-truth reader wired in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_kimi.emulator.scripts import Script
from pytest_kimi.emulator.server import EmulatorServer

__all__ = ["start_embedded_emulator"]


def _media_check() -> Any:
    try:
        from pytest_kimi.media.validation import check_content_part
    except ImportError:  # pragma: no cover - the media package ships with the plugin
        return None
    return check_content_part


def _truth_reader() -> Any:
    try:
        from pytest_kimi.media.truth import truth_lines
    except ImportError:  # pragma: no cover
        return None

    def read(message: Mapping[str, Any]) -> list[str]:
        return truth_lines(message)

    return read


def start_embedded_emulator(scripts: Iterable[Script] = (), *, port: int = 0) -> EmulatorServer:
    """Start an emulator on 127.0.0.1 (a free port unless `port` is given)."""
    server = EmulatorServer(port=port, media_check=_media_check(), truth_reader=_truth_reader())
    for script in scripts:
        server.scripts.add(script)
    return server.start()

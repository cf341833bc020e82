"""Fixtures for the Anthropic-route tests: the shared emulator serves the Messages API."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from pytest_kimi.emulator.anthropic import register_anthropic
from pytest_kimi.emulator.server import EmulatorServer

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(autouse=True)
def _messages_endpoint(emulator_server: EmulatorServer) -> Generator[None]:
    """Register the Messages API handler on the worker's shared emulator."""
    register_anthropic(emulator_server)
    yield

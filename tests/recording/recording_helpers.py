"""Helpers for record/replay plugin tests: a pytester project with emulator routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_kimi.recording.cassette import Cassette

# Until pytest_kimi.plugin wires record and replay in itself, the pytester
# project's conftest does it; once plugin.py exposes register_recording it does nothing.
SHIM_CONFTEST = """
import pytest
import pytest_kimi.plugin as kimi_plugin
from pytest_kimi.recording import add_recording_options, register_recording

if not hasattr(kimi_plugin, "register_recording"):
    def pytest_addoption(parser):
        add_recording_options(parser)

    @pytest.hookimpl(trylast=True)
    def pytest_configure(config):
        register_recording(config)
"""

ROUTES_TOML = """
[tool.pytest_kimi]
default_routes = ["emulator"]
modes = ["thinking"]
max_retries = 0

[tool.pytest_kimi.routes.kimi]
emulator = true
flavor = "moonshot"

[tool.pytest_kimi.routes.vllm]
emulator = true
flavor = "vllm"

[tool.pytest_kimi.routes.sglang]
emulator = true
flavor = "sglang"

[tool.pytest_kimi.routes.gateway]
emulator = true
flavor = "openai"
"""


class Project:
    """A pytester project configured with emulator routes and the recording shim."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = pytester.path
        pytester.makeconftest(SHIM_CONFTEST)
        self.configure()

    def configure(self, extra: str = "") -> None:
        """Write pyproject.toml with the routes plus `extra` TOML."""
        (self.root / "pyproject.toml").write_text(ROUTES_TOML + extra, encoding="utf-8")

    def write_test(self, source: str, name: str = "test_model") -> Path:
        """Write a test module and return its path."""
        return self.pytester.makepyfile(**{name: source})

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest in this process; each run has its own config, state and emulator."""
        return self.pytester.runpytest("-p", "no:cacheprovider", *args)

    def cassettes(self, module: str = "test_model") -> list[Path]:
        """Return the cassette files written for a module, sorted by name."""
        return sorted((self.root / "cassettes" / module).glob("*.json"))

    def cassette(self, name: str, module: str = "test_model") -> Path:
        """Return the path of one cassette."""
        return self.root / "cassettes" / module / f"{name}.json"

    def load(self, name: str, module: str = "test_model") -> Cassette:
        """Load and validate one cassette."""
        return Cassette.load(self.cassette(name, module))

    def raw(self, name: str, module: str = "test_model") -> Any:
        """Return the parsed JSON of one cassette."""
        return json.loads(self.cassette(name, module).read_text(encoding="utf-8"))

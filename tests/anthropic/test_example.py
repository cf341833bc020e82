"""The proposed migration example, run by pytest with the plugin loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "test_migration.py"

PYPROJECT = """
[tool.pytest_kimi.routes.emulator-anthropic]
flavor = "anthropic"
emulator = true
"""

# Registers the Messages API handler on the embedded emulator until
# `start_embedded_emulator` does it itself; registering twice is harmless.
CONFTEST = """
import pytest

from pytest_kimi.emulator.anthropic import register_anthropic
from pytest_kimi.state import STATE_KEY


@pytest.fixture(autouse=True)
def _messages_endpoint(request):
    register_anthropic(request.config.stash[STATE_KEY].emulator())
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_example_passes(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_migration=EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess(*workers)
    result.assert_outcomes(passed=2)


def test_example_fails_on_dropped_tool(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makeconftest(
        CONFTEST
        + """

@pytest.fixture(autouse=True)
def _anthropic_answers_differently(request, kimi_emulator):
    kimi_emulator.script(
        match={"profile": "emulator-anthropic", "has_tools": True, "last_role": "user"},
        reply={"content": "I cannot check the weather."},
    )
"""
    )
    pytester.makepyfile(test_migration=EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*step 0: finish_reason differs*"])

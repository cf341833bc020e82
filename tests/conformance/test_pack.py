"""The conformance pack passes on the official-shaped emulator and names the broken checks."""

from __future__ import annotations

import re

import pytest

from pytest_kimi.conformance import CHECKS

PYPROJECT = """
[tool.pytest_kimi]
default_routes = ["emulator"]

[tool.pytest_kimi.routes.noparser]
flavor = "vllm"
emulator = {no_reasoning_parser = true}

[tool.pytest_kimi.routes.ignoreswitch]
flavor = "vllm"
emulator = {ignore_thinking_switch = true}

[tool.pytest_kimi.routes.wrongfield]
flavor = "vllm"
history_reasoning_field = "reasoning_content"
emulator = {reasoning_field = "reasoning"}

[tool.pytest_kimi.routes.sglangfield]
flavor = "sglang"
emulator = {reasoning_field = "reasoning"}

[tool.pytest_kimi.routes.rewriteids]
emulator = {rewrite_tool_ids = true}

[tool.pytest_kimi.routes.vllmgood]
flavor = "vllm"
emulator = true

[tool.pytest_kimi.conformance.reasoning_field]
sglangfield = "reasoning"
"""

IMAGE_CHECK = "image_part_accepted"
SAMPLING_CHECKS = {"default_sampling_accepted", "other_sampling_rejected"}

CASES = {
    "emulator": set(),
    "vllmgood": set(),
    "noparser": {
        "reasoning_present_when_thinking",
        "no_reasoning_markup_in_content",
        "reasoning_field_name",
        "tool_call_arguments_valid",
        "tool_call_ids_survive_turns",
    },
    "ignoreswitch": {"reasoning_absent_when_instant"},
    "wrongfield": {"reasoning_field_name"},
    "sglangfield": set(),
    "rewriteids": {"tool_call_ids_survive_turns"},
}

OUTCOME = re.compile(
    r"test_contract\[(?P<route>[a-z]+)-(?P<check>[a-z_]+)\] (?P<status>PASSED|FAILED|SKIPPED)"
)


def _outcomes(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        match = OUTCOME.search(line)
        if match:
            found[match["check"]] = match["status"]
    return found


@pytest.mark.parametrize("route", sorted(CASES))
def test_pack_names_failed_checks(pytester: pytest.Pytester, route: str) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_kimi.parity.plugin",
        "--pyargs",
        "pytest_kimi.conformance",
        "--kimi-route",
        route,
        "-v",
        "-p",
        "no:cacheprovider",
    )
    outcomes = _outcomes(result.stdout.str())
    assert set(outcomes) == set(CHECKS)
    failed = {name for name, status in outcomes.items() if status == "FAILED"}
    assert failed == CASES[route]
    skipped = {name for name, status in outcomes.items() if status == "SKIPPED"}
    flavor_is_official = route in ("emulator", "rewriteids")
    assert skipped == (set() if flavor_is_official else SAMPLING_CHECKS)


def test_failures_explain_the_cause(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_kimi.parity.plugin",
        "--pyargs",
        "pytest_kimi.conformance",
        "--kimi-route",
        "wrongfield",
        "--kimi-route",
        "rewriteids",
        "-p",
        "no:cacheprovider",
    )
    result.stdout.fnmatch_lines_random(
        [
            "*conformance check 'reasoning_field_name' failed on route 'wrongfield': non-stream "
            "reply carries reasoning under 'reasoning', but the route is configured for "
            "'reasoning_content'*",
            "*conformance check 'tool_call_ids_survive_turns' failed on route 'rewriteids': "
            "turn 3: raw tool-call markup '<|tool_calls_section_begin|>' in content*",
        ]
    )


def test_image_check_passes_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_kimi.parity.plugin",
        "--pyargs",
        "pytest_kimi.conformance",
        "--kimi-route",
        "emulator",
        "-k",
        IMAGE_CHECK,
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)


PREFLIGHT_TEST = """
def test_answer(kimi):
    assert "391" in kimi.chat("What is 17 * 23?").text
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_preflight_stops_broken_route(pytester: pytest.Pytester, workers: str) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(test_model=PREFLIGHT_TEST)
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_kimi.parity.plugin",
        "--kimi-preflight",
        "--kimi-route",
        "rewriteids",
        "-n",
        workers,
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*pytest-kimi pre-flight failed on route(s) 'rewriteids'*",
            "*- tool_call_ids_survive_turns: conformance check*",
        ]
    )
    assert "test_answer" not in result.stdout.str()


def test_preflight_passes_good_route(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(test_model=PREFLIGHT_TEST)
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_kimi.parity.plugin",
        "--kimi-preflight",
        "--kimi-route",
        "vllmgood",
        "--kimi-mode",
        "instant",
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)

"""Route comparison metrics and `assert_parity`, on emulator routes over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.reply import ToolCall
from pytest_kimi.emulator.profile import Profile
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.parity.compare import assert_parity, compare_routes, tool_call_f1

ClientFactory = Callable[..., KimiClient]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
PROMPT = "What is the weather in 'Paris'? Use the get_weather tool."


def _call(name: str, arguments: str) -> ToolCall:
    return ToolCall(id="x", name=name, arguments=arguments)


def test_f1_ignores_argument_order() -> None:
    left = [_call("f", '{"a": 1, "b": 2}')]
    right = [_call("f", '{"b": 2, "a": 1}')]
    assert tool_call_f1(left, right) == 1.0


def test_f1_scores_partial_overlap() -> None:
    predicted = [_call("f", "{}"), _call("g", "{}")]
    expected = [_call("f", "{}")]
    assert tool_call_f1(predicted, expected) == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert tool_call_f1([], expected) == 0.0
    assert tool_call_f1([], []) == 1.0


def _pair(
    make_client: ClientFactory, emulator: EmulatorServer
) -> tuple[dict[str, KimiClient], str]:
    reference = make_client("moonshot", "instant")
    other = make_client("vllm", "instant")
    profile = other.route.base_url.rstrip("/").split("/")[-2]
    return {"official": reference, "int4": other}, profile


def test_identical_routes_reach_parity(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    clients, _ = _pair(make_client, emulator)
    comparison = compare_routes(clients, PROMPT, reference="official", tools=[WEATHER], repeats=2)
    metrics = comparison.metrics["int4"]
    assert metrics.tool_trigger_agreement == 1.0
    assert metrics.tool_call_f1 == 1.0
    assert metrics.schema_accuracy == 1.0
    assert metrics.answer_agreement == 1.0
    assert metrics.timings["count"] == 2
    assert metrics.timings["latency_s"]["p50"] is not None
    assert_parity(comparison, margin=0.0)


def test_wrong_arguments_fail_parity(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    clients, profile = _pair(make_client, emulator)
    emulator.script(
        match={"profile": profile},
        reply={"tool_calls": [{"name": "get_weather", "arguments": {"town": 3}}]},
    )
    comparison = compare_routes(clients, PROMPT, reference="official", tools=[WEATHER], repeats=2)
    metrics = comparison.metrics["int4"]
    assert metrics.tool_trigger_agreement == 1.0
    assert metrics.tool_call_f1 == 0.0
    assert metrics.schema_accuracy == 0.0
    assert comparison.metrics["official"].schema_accuracy == 1.0
    with pytest.raises(AssertionError) as failure:
        assert_parity(comparison, margin=0.1)
    message = str(failure.value)
    assert "route 'int4': tool_call_f1 0.000 is below the reference route 'official'" in message
    assert "schema_accuracy 0.000" in message
    assert "margin 0.100" in message


def test_missed_tool_call_lowers_trigger_agreement(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    clients, profile = _pair(make_client, emulator)
    emulator.script(match={"profile": profile}, reply={"content": "It is sunny."}, times=1)
    comparison = compare_routes(clients, PROMPT, reference="official", tools=[WEATHER], repeats=2)
    metrics = comparison.metrics["int4"]
    assert metrics.tool_trigger_agreement == 0.5
    assert metrics.tool_call_f1 == 0.5
    assert_parity(
        comparison,
        margin={"tool_trigger_agreement": 0.5, "tool_call_f1": 0.5, "answer_agreement": 0.5},
    )
    with pytest.raises(AssertionError, match="tool_trigger_agreement 0.500"):
        assert_parity(comparison, margin=0.2)


def test_slow_route_keeps_quality(emulator: EmulatorServer, make_client: ClientFactory) -> None:
    slow = make_client(
        "vllm",
        "instant",
        profile=Profile(
            flavor="vllm",
            model="moonshotai/Kimi-K2.6",
            reasoning_field="reasoning",
            enforce_sampling=False,
            latency_s=0.05,
        ),
    )
    fast = make_client("moonshot", "instant")
    comparison = compare_routes({"fast": fast, "slow": slow}, "What is 2 + 3?", reference="fast")
    assert comparison.metrics["slow"].answers == ["5"]
    slow_p50 = comparison.metrics["slow"].timings["latency_s"]["p50"]
    assert slow_p50 >= 0.05
    assert "slow" in comparison.table()
    assert_parity(comparison, margin=0.0)


def test_unknown_reference_is_rejected(make_client: ClientFactory) -> None:
    with pytest.raises(ValueError, match="reference route 'nope'"):
        compare_routes({"a": make_client()}, "hi", reference="nope")


COMPARE_PYPROJECT = """
[tool.pytest_kimi]
default_routes = ["official"]

[tool.pytest_kimi.parity]
reference = "official"
routes = ["official", "int4"]

[tool.pytest_kimi.routes.official]
emulator = true

[tool.pytest_kimi.routes.int4]
flavor = "vllm"
emulator = true
"""

COMPARE_TESTS = """
from pytest_kimi.parity import assert_parity

WEATHER = {"type": "function", "function": {"name": "get_weather",
    "description": "Get the weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
PROMPT = "What is the weather in 'Paris'? Use the get_weather tool."

def test_same(kimi_compare):
    comparison = kimi_compare(PROMPT, tools=[WEATHER], mode="instant")
    assert set(comparison.metrics) == {"official", "int4"}
    assert_parity(comparison, margin=0.0)

def test_broken(kimi_compare, kimi_emulator):
    kimi_emulator.script(match={"profile": "int4"},
                         reply={"tool_calls": [{"name": "get_weather", "arguments": {"x": 1}}]})
    comparison = kimi_compare(PROMPT, tools=[WEATHER], mode="instant")
    assert_parity(comparison, margin=0.1)
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_kimi_compare_fixture(pytester: pytest.Pytester, workers: str) -> None:
    pytester.makepyprojecttoml(COMPARE_PYPROJECT)
    pytester.makepyfile(test_parity=COMPARE_TESTS)
    result = pytester.runpytest_subprocess("-p", "pytest_kimi.parity.plugin", "-n", workers)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*route 'int4': tool_call_f1 0.000 is below the reference route 'official'*",
            "*pytest-kimi route parity*",
            "*2 comparison(s); mean per route:*",
            "*int4: answer_agreement 1.000, tool_trigger_agreement 1.000, tool_call_f1 0.500*",
        ]
    )
    result.stdout.fnmatch_lines(["*official (reference, scored against itself):*"])

"""Comparing one conversation across the chat-completions and Messages protocols."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.reply import Reply, Timings, ToolCall, Usage
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.errors import KimiConfigError
from pytest_kimi.migration import (
    ConversationSpec,
    ProtocolRun,
    assert_migration_equivalent,
    compare_protocols,
    compare_runs,
)
from tests.anthropic.conftest import WEATHER_TOOL

ClientFactory = Callable[..., KimiClient]

WEATHER_SPEC = ConversationSpec(
    turns=["What is the weather in 'Tokyo'?", "What is 17 * 23?"],
    system="Answer briefly.",
    tools=[WEATHER_TOOL],
    tool_handlers={"get_weather": lambda city: {"city": city, "temp_c": 21}},
)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_loop_equivalent(make_client: ClientFactory, stream: bool) -> None:
    result = compare_protocols(
        make_client("moonshot", stream=stream),
        make_client("anthropic", stream=stream),
        WEATHER_SPEC,
    )
    assert_migration_equivalent(result)
    assert len(result.openai.replies) == 3
    assert result.anthropic.steps[0].tool_calls == (("get_weather", {"city": "Tokyo"}),)
    assert "temp_c = 21" in result.anthropic.steps[1].answer


def test_different_answer_reported(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    anthropic_client = make_client("anthropic")
    emulator.script(
        match={"profile": anthropic_client.route.name, "contains": "17 * 23"},
        reply={"content": "About four hundred."},
    )
    spec = ConversationSpec(turns=["What is 17 * 23?"])
    result = compare_protocols(make_client("moonshot"), anthropic_client, spec)
    assert not result.equivalent
    (difference,) = result.differences
    assert difference.kind == "answer (normalized)"
    assert difference.anthropic == "about four hundred."
    with pytest.raises(AssertionError, match="step 0: answer"):
        assert_migration_equivalent(result)


def test_different_tool_arguments_reported(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    anthropic_client = make_client("anthropic")
    emulator.script(
        match={"profile": anthropic_client.route.name, "has_tools": True, "last_role": "user"},
        reply={"tool_calls": [{"name": "get_weather", "arguments": {"city": "Kyoto"}}]},
    )
    result = compare_protocols(make_client("moonshot"), anthropic_client, WEATHER_SPEC)
    kinds = [difference.kind for difference in result.differences]
    assert "tool_calls" in kinds
    assert "Kyoto" in result.describe()


def test_wrong_flavor_order_rejected(make_client: ClientFactory) -> None:
    with pytest.raises(KimiConfigError, match="Anthropic-protocol client"):
        compare_protocols(make_client("moonshot"), make_client("moonshot"), WEATHER_SPEC)


def test_mode_mismatch_rejected(make_client: ClientFactory) -> None:
    with pytest.raises(KimiConfigError, match="same mode"):
        compare_protocols(
            make_client("moonshot"), make_client("anthropic", mode="instant"), WEATHER_SPEC
        )


def _run(protocol: str, *answers: str, calls: list[ToolCall] | None = None) -> ProtocolRun:
    replies = tuple(
        Reply(
            content=answer,
            reasoning=None,
            tool_calls=list(calls or []),
            finish_reason="stop",
            usage=Usage(),
            timings=Timings(total_s=0.0),
            route=f"{protocol}-route",
            mode="thinking",
            model="kimi-k2.6",
            flavor=protocol,
            streamed=False,
            request={},
            response={},
            protocol=protocol,
        )
        for answer in answers
    )
    return ProtocolRun(f"{protocol}-route", protocol, replies)


@pytest.mark.parametrize(
    ("policy", "left", "right", "equal"),
    [
        ("exact", "Tokyo is sunny.", "Tokyo is  sunny.", False),
        ("normalized", "Tokyo is sunny.", " tokyo IS\nsunny. ", True),
        ("json", '{"a": 1, "b": [2]}', '{"b": [2],  "a": 1}', True),
        ("json", '{"a": 1}', '{"a": 2}', False),
        ("json", '{"a": 1}', "not json", False),
        ("ignore", "yes", "no", True),
    ],
)
def test_answer_policies(policy: Any, left: str, right: str, equal: bool) -> None:
    differences = compare_runs(_run("openai", left), _run("anthropic", right), policy)
    assert (not differences) is equal


def test_tool_ids_not_compared() -> None:
    left = _run("openai", "", calls=[ToolCall("functions.f:0", "f", '{"x": 1}')])
    right = _run("anthropic", "", calls=[ToolCall("toolu_01", "f", '{"x":1}')])
    assert compare_runs(left, right, "normalized") == ()


def test_reply_count_difference() -> None:
    differences = compare_runs(_run("openai", "a", "b"), _run("anthropic", "a"), "exact")
    assert [d.kind for d in differences] == ["number of replies"]

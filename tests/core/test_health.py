"""Protocol health checks: a broken route fails as a route problem."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_kimi.client.health import check_reply, split_reasoning
from pytest_kimi.client.parse import StreamAccumulator, parse_completion
from pytest_kimi.client.reply import Reply, Timings
from pytest_kimi.errors import KimiRouteError, ReasoningExhaustedError


def _reply(body: dict[str, Any], *, mode: str, route: str = "vllm", stream: bool = False) -> Reply:
    parsed = StreamAccumulator().extend(body["chunks"]) if stream else parse_completion(body)
    return Reply(
        content=parsed.content,
        reasoning=parsed.reasoning,
        reasoning_field=parsed.reasoning_field,
        tool_calls=parsed.tool_calls,
        finish_reason=parsed.finish_reason,
        usage=parsed.usage,
        timings=Timings(total_s=0.1),
        route=route,
        mode=mode,
        model="moonshotai/Kimi-K2.6",
        flavor="vllm",
        streamed=stream,
        request={},
        response=body,
    )


LEAKED = {
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {
                "role": "assistant",
                "content": " The user greeted me; reply briefly and politely. </think> Hello! How can I help you today?",
            },
        }
    ]
}


@pytest.mark.parametrize("mode", ["thinking", "instant", "preserve"])
def test_reasoning_markup_in_content_is_route_error(mode: str) -> None:
    with pytest.raises(
        KimiRouteError,
        match=r"reasoning leaked into content on route vllm \(is --reasoning-parser kimi_k2 set\?\)",
    ) as info:
        check_reply(_reply(LEAKED, mode=mode))
    assert info.value.check == "reasoning_markup"


@pytest.mark.parametrize("tag", ["<think>", "</think>"])
def test_each_think_tag_is_caught(tag: str) -> None:
    body = {"choices": [{"message": {"content": f"a {tag} b", "reasoning_content": "r"}}]}
    with pytest.raises(KimiRouteError):
        check_reply(_reply(body, mode="thinking"))


def test_split_reasoning_on_bare_close_tag() -> None:
    split = split_reasoning(LEAKED["choices"][0]["message"]["content"])
    assert split.reasoning == "The user greeted me; reply briefly and politely."
    assert split.content == "Hello! How can I help you today?"
    assert split.tool_markup == ""


def test_split_reasoning_with_open_tag() -> None:
    split = split_reasoning("<think>plan it</think>done")
    assert split.reasoning == "plan it"
    assert split.content == "done"


def test_split_reasoning_at_tool_section_marker() -> None:
    text = "Need weather data.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"
    split = split_reasoning(text)
    assert split.reasoning == "Need weather data."
    assert split.content == ""
    assert split.tool_markup.startswith("<|tool_calls_section_begin|>")
    assert split.tool_markup.endswith("<|tool_calls_section_end|>")


def test_split_reasoning_without_markup_keeps_content() -> None:
    split = split_reasoning("plain answer")
    assert split.reasoning == ""
    assert split.content == "plain answer"


def test_unparsed_tool_markup_is_route_error() -> None:
    content = (
        "<|tool_calls_section_begin|><|tool_call_begin|>functions_get_weather_1"
        '<|tool_call_argument_begin|>{"city":"CITY_A"}<|tool_call_end|>'
        "<|tool_calls_section_end|>"
    )
    body = {"choices": [{"message": {"content": content, "reasoning_content": "r"}}]}
    with pytest.raises(KimiRouteError, match="unparsed tool-call markup in content") as info:
        check_reply(_reply(body, mode="thinking"))
    assert info.value.check == "tool_call_markup"


def test_thinking_without_reasoning_deltas_fails() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": " A"}}]},
        {"choices": [{"index": 0, "delta": {"content": " mutex is a lock."}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    reply = _reply({"chunks": chunks}, mode="thinking", stream=True)
    assert reply.content == " A mutex is a lock."
    with pytest.raises(
        KimiRouteError, match=r"thinking mode requested but no reasoning received \(route vllm\)"
    ):
        check_reply(reply)


def test_blank_reasoning_counts_as_missing_in_thinking_mode() -> None:
    body = {"choices": [{"message": {"content": "x", "reasoning_content": "  "}}]}
    with pytest.raises(KimiRouteError, match="no reasoning received"):
        check_reply(_reply(body, mode="preserve"))


def test_instant_answer_in_reasoning_channel_fails() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": None}}]},
        {
            "choices": [
                {"index": 0, "delta": {"reasoning_content": "Hello! How can I help you today?"}}
            ]
        },
    ]
    reply = _reply({"chunks": chunks}, mode="instant", stream=True)
    with pytest.raises(KimiRouteError, match="instant mode: answer delivered in reasoning channel"):
        check_reply(reply)


def test_instant_with_reasoning_and_content_flags_ignored_switch() -> None:
    body = {"choices": [{"message": {"content": "21", "reasoning_content": "3x7 = 21"}}]}
    with pytest.raises(KimiRouteError, match="ignores the thinking switch") as info:
        check_reply(_reply(body, mode="instant"))
    assert info.value.check == "thinking_switch_ignored"


def test_instant_pass_needs_content_and_no_reasoning() -> None:
    body = {"choices": [{"message": {"content": "21"}, "finish_reason": "stop"}]}
    check_reply(_reply(body, mode="instant"))


def test_reasoning_exhausting_budget_is_its_own_failure() -> None:
    body = {
        "choices": [
            {
                "finish_reason": "length",
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "Let me go through each section carefully...",
                },
            }
        ],
        "usage": {"prompt_tokens": 90000, "completion_tokens": 4096, "total_tokens": 94096},
    }
    with pytest.raises(
        ReasoningExhaustedError,
        match=r"reasoning exhausted max_tokens \(finish_reason=length, empty content\)",
    ):
        check_reply(_reply(body, mode="thinking", route="moonshot"))


def test_exhausted_reply_is_not_a_route_error() -> None:
    assert not issubclass(ReasoningExhaustedError, KimiRouteError)

"""Building Messages API bodies from chat-completions messages and fields."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from PIL import Image

from pytest_kimi.client.anthropic import (
    DEFAULT_MAX_TOKENS,
    anthropic_assistant_message,
    build_anthropic_body,
    convert_messages,
)
from pytest_kimi.client.anthropic.body import convert_tool_choice, convert_tools
from pytest_kimi.client.reply import Reply, Timings, ToolCall, Usage
from pytest_kimi.config.routes import route_from_table
from pytest_kimi.errors import KimiConfigError

ROUTE = route_from_table(
    "anthropic-test",
    {"flavor": "anthropic", "base_url": "https://api.moonshot.ai/anthropic/v1"},
    source="test",
)
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _tool_history() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Tokyo?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "Call the tool.",
            "tool_calls": [
                {
                    "id": "functions.get_weather:0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
                },
                {
                    "id": "functions.get_weather:1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Osaka"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "sunny"},
        {"role": "tool", "tool_call_id": "functions.get_weather:1", "content": "rain"},
    ]


def test_system_moves_to_top_level() -> None:
    system, turns = convert_messages(_tool_history())
    assert system == "Be brief."
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]


def test_assistant_tool_turn_becomes_blocks() -> None:
    _, turns = convert_messages(_tool_history())
    blocks = turns[1]["content"]
    assert blocks[0] == {"type": "thinking", "thinking": "Call the tool."}
    assert blocks[1]["type"] == "tool_use"
    assert blocks[1]["id"] == "functions.get_weather:0"
    assert blocks[1]["input"] == {"city": "Tokyo"}
    assert blocks[2]["input"] == {"city": "Osaka"}


def test_tool_results_grouped_in_one_user_turn() -> None:
    _, turns = convert_messages(_tool_history())
    results = turns[2]["content"]
    assert [block["type"] for block in results] == ["tool_result", "tool_result"]
    assert [block["tool_use_id"] for block in results] == [
        "functions.get_weather:0",
        "functions.get_weather:1",
    ]
    assert results[1]["content"] == "rain"


def test_user_text_after_tool_results_joins_turn() -> None:
    history = [*_tool_history(), {"role": "user", "content": "And tomorrow?"}]
    _, turns = convert_messages(history)
    assert len(turns) == 3
    assert turns[2]["content"][-1] == {"type": "text", "text": "And tomorrow?"}


def test_empty_reasoning_still_sent() -> None:
    history = _tool_history()
    history[2]["reasoning_content"] = ""
    _, turns = convert_messages(history)
    assert turns[1]["content"][0] == {"type": "thinking", "thinking": ""}


def test_data_url_image_becomes_base64_block() -> None:
    url = _png_data_url()
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What colour?"},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    _, turns = convert_messages([message])
    image = turns[0]["content"][1]
    assert image["type"] == "image"
    assert image["source"]["media_type"] == "image/png"
    decoded = base64.b64decode(image["source"]["data"])
    assert Image.open(io.BytesIO(decoded)).size == (8, 8)


def test_http_image_becomes_url_source() -> None:
    part = {"type": "image_url", "image_url": "https://example.test/cat.png"}
    _, turns = convert_messages([{"role": "user", "content": [part]}])
    assert turns[0]["content"][0]["source"] == {
        "type": "url",
        "url": "https://example.test/cat.png",
    }


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "ms://file-abc"}},
        {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}},
        {"type": "input_audio", "input_audio": {}},
    ],
    ids=["ms-file-id", "video", "audio"],
)
def test_parts_without_block_rejected(part: dict[str, Any]) -> None:
    with pytest.raises(KimiConfigError, match="Anthropic route|no Messages API block"):
        convert_messages([{"role": "user", "content": [part]}])


def test_stored_blocks_pass_unchanged() -> None:
    blocks = [
        {"type": "thinking", "thinking": "t", "signature": "sig-1"},
        {"type": "tool_use", "id": "call-1", "name": "get_weather", "input": {"city": "Rome"}},
    ]
    _, turns = convert_messages([{"role": "assistant", "content": blocks}])
    assert turns[0]["content"] == blocks


def test_bad_tool_arguments_named() -> None:
    history = _tool_history()
    history[2]["tool_calls"][0]["function"]["arguments"] = "{city: Tokyo"
    with pytest.raises(KimiConfigError, match="functions.get_weather:0"):
        convert_messages(history)


def test_tools_converted_to_input_schema() -> None:
    (tool,) = convert_tools([TOOL])
    assert tool == {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
        ({"type": "any"}, {"type": "any"}),
    ],
)
def test_tool_choice_conversion(choice: Any, expected: dict[str, Any]) -> None:
    assert convert_tool_choice(choice) == expected


@pytest.mark.parametrize(("mode", "kind"), [("thinking", "enabled"), ("instant", "disabled")])
def test_mode_sets_thinking_toggle(mode: str, kind: str) -> None:
    body = build_anthropic_body(ROUTE, mode, [{"role": "user", "content": "hi"}], {})
    assert body["thinking"] == {"type": kind}
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    assert body["stream"] is False


def test_fields_converted() -> None:
    fields = {
        "max_completion_tokens": 500,
        "stop": "END",
        "tools": [TOOL],
        "parallel_tool_calls": False,
        "stream": True,
    }
    body = build_anthropic_body(ROUTE, "thinking", [{"role": "user", "content": "hi"}], fields)
    assert body["max_tokens"] == 500
    assert body["stop_sequences"] == ["END"]
    assert body["tools"][0]["name"] == "get_weather"
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert body["stream"] is True


def test_extra_body_deep_merged() -> None:
    fields = {"extra_body": {"thinking": {"budget_tokens": 2048}, "top_k": 5}}
    body = build_anthropic_body(ROUTE, "thinking", [{"role": "user", "content": "hi"}], fields)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["top_k"] == 5


@pytest.mark.parametrize("name", ["response_format", "presence_penalty", "stream_options"])
def test_openai_only_field_rejected(name: str) -> None:
    with pytest.raises(KimiConfigError, match=name):
        build_anthropic_body(ROUTE, "thinking", [{"role": "user", "content": "hi"}], {name: 1})


def test_route_default_sampling_dropped() -> None:
    route = route_from_table(
        "anthropic-defaults",
        {
            "flavor": "anthropic",
            "base_url": "https://api.moonshot.ai/anthropic/v1",
            "request_defaults": {"temperature": 0.3, "max_tokens": 900},
        },
        source="test",
    )
    body = build_anthropic_body(route, "thinking", [{"role": "user", "content": "hi"}], {})
    assert "temperature" not in body
    assert body["max_tokens"] == 900


def _reply(blocks: list[dict[str, Any]]) -> Reply:
    return Reply(
        content="",
        reasoning="t",
        tool_calls=[ToolCall("call-1", "get_weather", json.dumps({"city": "Rome"}))],
        finish_reason="tool_calls",
        usage=Usage(),
        timings=Timings(total_s=0.1),
        route="r",
        mode="thinking",
        model="kimi-k2.6",
        flavor="anthropic",
        streamed=False,
        request={},
        response={},
        protocol="anthropic",
        extra_content_blocks=blocks,
    )


def test_history_message_keeps_signed_thinking() -> None:
    blocks = [
        {"type": "thinking", "thinking": "t", "signature": "sig-1"},
        {"type": "tool_use", "id": "call-1", "name": "get_weather", "input": {"city": "Rome"}},
    ]
    reply = _reply(blocks)
    message = anthropic_assistant_message(reply)
    assert message == {"role": "assistant", "content": blocks}
    message["content"][0]["signature"] = "changed"
    assert reply.extra_content_blocks[0]["signature"] == "sig-1"

"""Reading Messages API responses and event streams into content blocks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_kimi.client.anthropic import AnthropicStreamAccumulator, parse_message
from pytest_kimi.client.transport import sse_payloads
from pytest_kimi.errors import KimiProtocolError

# A tool-use turn as Anthropic documents the event sequence, with the
# `event:` lines a Messages API server sends.
STREAM = """\
event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"kimi-k2.6","content":[],"stop_reason":null,"usage":{"input_tokens":40,"output_tokens":1,"cache_read_input_tokens":8}}}

event: ping
data: {"type":"ping"}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Need the "}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"weather."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking."}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"functions.get_weather:0","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": "}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\\"Tokyo\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":31}}

event: message_stop
data: {"type":"message_stop"}
"""


def _events(text: str) -> list[Any]:
    return [json.loads(payload) for payload in sse_payloads(iter(text.splitlines()))]


def _accumulate(events: list[Any]) -> AnthropicStreamAccumulator:
    accumulator = AnthropicStreamAccumulator("test-route")
    for event in events:
        accumulator.add(event)
    return accumulator


def test_stream_rebuilds_blocks() -> None:
    message = _accumulate(_events(STREAM)).result()
    assert [block["type"] for block in message.blocks] == ["thinking", "text", "tool_use"]
    assert message.blocks[0]["signature"] == "c2ln"
    assert message.blocks[2]["input"] == {"city": "Tokyo"}


def test_stream_maps_to_reply_fields() -> None:
    message = _accumulate(_events(STREAM)).result()
    assert message.reasoning == "Need the weather."
    assert message.content == "Checking."
    assert message.finish_reason == "tool_calls"
    (call,) = message.tool_calls
    assert call.id == "functions.get_weather:0"
    assert call.parsed_arguments() == {"city": "Tokyo"}


def test_stream_usage_from_start_and_delta() -> None:
    usage = _accumulate(_events(STREAM)).result().usage
    assert usage.prompt_tokens == 40
    assert usage.completion_tokens == 31
    assert usage.total_tokens == 71
    assert usage.cached_tokens == 8


def test_stream_done_only_at_message_stop() -> None:
    events = _events(STREAM)
    accumulator = _accumulate(events[:-1])
    assert not accumulator.done
    accumulator.add(events[-1])
    assert accumulator.done


def test_token_events_flagged() -> None:
    accumulator = AnthropicStreamAccumulator("test-route")
    flags = [accumulator.add(event) for event in _events(STREAM)]
    kinds = [event["type"] for event in _events(STREAM)]
    assert flags[kinds.index("message_start")] is False
    assert flags[kinds.index("content_block_delta")] is True


def test_delta_before_start_rejected() -> None:
    accumulator = AnthropicStreamAccumulator("test-route")
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}}
    with pytest.raises(KimiProtocolError, match="before its start"):
        accumulator.add(delta)


def test_bad_tool_json_rejected() -> None:
    events = [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "c", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"a": '},
        },
        {"type": "content_block_stop", "index": 0},
    ]
    with pytest.raises(KimiProtocolError, match="not valid JSON"):
        _accumulate(events)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("tool_use", "tool_calls"),
        ("max_tokens", "length"),
        ("pause_turn", "pause_turn"),
    ],
)
def test_stop_reason_mapping(stop_reason: str, finish_reason: str) -> None:
    body = {"content": [{"type": "text", "text": "x"}], "stop_reason": stop_reason}
    assert parse_message(body, route="r").finish_reason == finish_reason


def test_message_without_thinking_has_no_reasoning() -> None:
    body = {
        "id": "msg_2",
        "content": [{"type": "text", "text": "391"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 12, "output_tokens": 3},
    }
    message = parse_message(body, route="r")
    assert message.reasoning is None
    assert message.content == "391"
    assert message.usage.cached_tokens is None


def test_non_message_body_rejected() -> None:
    body = {"choices": [{"message": {"content": "x"}}]}
    with pytest.raises(KimiProtocolError, match="/anthropic/v1"):
        parse_message(body, route="r")

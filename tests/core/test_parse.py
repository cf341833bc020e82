"""Reading replies from every server shape: reasoning fields, usage places, tool calls."""

from __future__ import annotations

import json

import pytest

from pytest_kimi.client.parse import StreamAccumulator, parse_completion, parse_usage
from pytest_kimi.errors import KimiProtocolError


def _sse(text: str) -> list[object]:
    chunks = []
    for line in text.strip().splitlines():
        payload = line.removeprefix("data: ")
        if payload != "[DONE]":
            chunks.append(json.loads(payload))
    return chunks


@pytest.mark.parametrize(
    "body",
    [
        {
            "choices": [
                {"message": {"role": "assistant", "content": "2", "reasoning_content": "1+1 is 2."}}
            ]
        },
        {"choices": [{"message": {"role": "assistant", "content": "2", "reasoning": "1+1 is 2."}}]},
    ],
    ids=["official-reasoning_content", "vllm-reasoning"],
)
def test_reasoning_read_from_either_field(body: dict[str, object]) -> None:
    parsed = parse_completion(body)
    assert parsed.reasoning == "1+1 is 2."
    assert parsed.content == "2"


def test_reasoning_read_from_vllm_stream() -> None:
    stream = """
data: {"choices":[{"index":0,"delta":{"reasoning":"1+1 "}}]}
data: {"choices":[{"index":0,"delta":{"reasoning":"is 2."}}]}
data: {"choices":[{"index":0,"delta":{"content":"2"},"finish_reason":"stop"}]}
data: [DONE]
"""
    parsed = StreamAccumulator().extend(_sse(stream))
    assert parsed.reasoning == "1+1 is 2."
    assert parsed.reasoning_field == "reasoning"
    assert parsed.content == "2"
    assert parsed.finish_reason == "stop"


def test_reasoning_absent_is_none() -> None:
    parsed = parse_completion({"choices": [{"message": {"role": "assistant", "content": "2"}}]})
    assert parsed.reasoning is None
    assert parsed.reasoning_field is None


def test_empty_reasoning_counts_as_present() -> None:
    body = {"choices": [{"message": {"content": "x", "reasoning_content": ""}}]}
    parsed = parse_completion(body)
    assert parsed.reasoning == ""
    assert parsed.reasoning_field == "reasoning_content"


@pytest.mark.parametrize("choices", ['"choices":[],', ""], ids=["empty-choices", "no-choices"])
def test_usage_only_final_chunk(choices: str) -> None:
    stream = f"""
data: {{"id":"c1","choices":[{{"index":0,"delta":{{"role":"assistant","content":"Hi"}}}}]}}
data: {{"id":"c1","choices":[{{"index":0,"delta":{{"content":"!"}},"finish_reason":"stop"}}]}}
data: {{"id":"c1",{choices}"usage":{{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}}}
data: [DONE]
"""
    parsed = StreamAccumulator().extend(_sse(stream))
    assert parsed.content == "Hi!"
    assert parsed.finish_reason == "stop"
    assert parsed.usage.as_dict() == {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
    }


def test_usage_in_moonshot_finish_chunk() -> None:
    stream = """
data: {"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Let me"}}]}
data: {"choices":[{"index":0,"delta":{"content":"Answer"}}]}
data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":19,"completion_tokens":13,"total_tokens":32,"cached_tokens":4}}]}
data: [DONE]
"""
    parsed = StreamAccumulator().extend(_sse(stream))
    assert parsed.usage.prompt_tokens == 19
    assert parsed.usage.total_tokens == 32
    assert parsed.usage.cached_tokens == 4
    assert parsed.usage.source == "choices[0].usage"


def test_usage_in_non_streaming_choice() -> None:
    body = {
        "choices": [
            {
                "message": {"content": "a"},
                "finish_reason": "stop",
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        ]
    }
    assert parse_completion(body).usage.total_tokens == 6


@pytest.mark.parametrize(
    "raw",
    [
        {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, "cached_tokens": 7},
        {
            "prompt_tokens": 10,
            "completion_tokens": 2,
            "total_tokens": 12,
            "prompt_tokens_details": {"cached_tokens": 7},
        },
    ],
    ids=["top-level", "prompt_tokens_details"],
)
def test_cached_tokens_read_from_either_place(raw: dict[str, object]) -> None:
    usage = parse_usage(raw, source="usage")
    assert usage is not None
    assert usage.cached_tokens == 7


def test_tool_call_fragments_assembled_with_ids_verbatim() -> None:
    stream = """
data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"functions.get_weather:0","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}
data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]}}]}
data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"CITY_A\\"}"}}]}}]}
data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
data: [DONE]
"""
    parsed = StreamAccumulator().extend(_sse(stream))
    assert len(parsed.tool_calls) == 1
    call = parsed.tool_calls[0]
    assert call.id == "functions.get_weather:0"
    assert call.parsed_arguments() == {"city": "CITY_A"}
    assert parsed.finish_reason == "tool_calls"


def test_non_completion_body_is_protocol_error() -> None:
    with pytest.raises(KimiProtocolError, match="not a chat completion"):
        parse_completion({"object": "list", "data": []})


def test_non_object_chunk_is_protocol_error() -> None:
    with pytest.raises(KimiProtocolError, match="not a JSON object"):
        StreamAccumulator().add(["not", "a", "chunk"])

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_kimi.client.reply import ToolCall
from pytest_kimi.grounding import (
    JSONExtractionError,
    SchemaMismatchError,
    ToolCallError,
    assert_matches_schema,
    assert_tool_calls_valid,
    extract_json,
)

CHIP_SCHEMA = {
    "type": "object",
    "required": ["chip", "year", "cores"],
    "properties": {
        "chip": {"type": "string"},
        "year": {"type": "integer"},
        "cores": {"type": "integer"},
    },
}
FENCED_WRONG_TYPE = '```json\n{"chip": "Apple M1", "year": 2020, "cores": "8"}\n```'
BASH_THEN_JSON = '```bash\nls -la\n```\nResult: {"chip": "M1", "year": 2020, "cores": 8}'
RAW = '{"chip": "M1", "year": 2020, "cores": 8}'
WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            },
        },
    }
]


def test_strict_rejects_code_fence() -> None:
    with pytest.raises(JSONExtractionError) as info:
        assert_matches_schema(FENCED_WRONG_TYPE, CHIP_SCHEMA, strict=True)

    message = str(info.value)
    assert message.startswith("output is not raw JSON (code fence)")
    assert repr(FENCED_WRONG_TYPE[:200]) in message


def test_strict_accepts_raw_json() -> None:
    assert assert_matches_schema(RAW, CHIP_SCHEMA) == {"chip": "M1", "year": 2020, "cores": 8}


def test_lenient_fence_fails_schema_at_path() -> None:
    with pytest.raises(SchemaMismatchError) as info:
        assert_matches_schema(FENCED_WRONG_TYPE, CHIP_SCHEMA, strict=False)

    message = str(info.value)
    assert "/cores: \"8\" is not of type 'integer' (rule: type)" in message
    assert "1 error(s)" in message
    assert "raw output (first 200 characters)" in message


def test_lenient_skips_bash_fence() -> None:
    extracted = extract_json(BASH_THEN_JSON, strict=False)

    assert extracted.value == {"chip": "M1", "year": 2020, "cores": 8}
    assert extracted.how == "embedded"
    assert "bash" in extracted.note
    assert assert_matches_schema(extracted, CHIP_SCHEMA) == extracted.value


def test_json_inside_bash_fence_is_never_taken() -> None:
    text = '```bash\ncurl -d \'{"chip": "x"}\' url\n```\nNo JSON here.'

    with pytest.raises(JSONExtractionError, match="no JSON object or array found"):
        extract_json(text, strict=False)


CHIP = {"chip": "M1", "year": 2020, "cores": 8}


@pytest.mark.parametrize(
    ("text", "how", "expected"),
    [
        (RAW, "raw", CHIP),
        ("  [1, 2]\n", "raw", [1, 2]),
        ("```JSON\n" + RAW + "\n```", "fence", CHIP),
        ("```\n" + RAW + "\n```", "fence", CHIP),
        ("Here it is: " + RAW + " Done.", "embedded", CHIP),
    ],
)
def test_lenient_extraction_kinds(text: str, how: str, expected: Any) -> None:
    extracted = extract_json(text, strict=False)

    assert extracted.how == how
    assert extracted.value == expected


def test_strict_names_invalid_json() -> None:
    with pytest.raises(JSONExtractionError, match=r"output is not raw JSON \(invalid JSON"):
        extract_json('{"a": 1', strict=True)
    with pytest.raises(JSONExtractionError, match=r"output is not raw JSON \(empty output\)"):
        extract_json("  ", strict=True)


def test_every_schema_error_is_listed() -> None:
    value = {"chip": 1, "cores": "8"}

    with pytest.raises(SchemaMismatchError) as info:
        assert_matches_schema(value, CHIP_SCHEMA)

    message = str(info.value)
    assert "3 error(s)" in message
    assert "(root): 'year' is a required property (rule: required)" in message
    assert "/chip: 1 is not of type 'string'" in message
    assert "/cores: \"8\" is not of type 'integer'" in message


def test_invalid_schema_is_value_error() -> None:
    with pytest.raises(ValueError, match="invalid JSON Schema"):
        assert_matches_schema({}, {"type": "no-such-type"})


def test_tool_calls_valid_with_reply_objects() -> None:
    calls = [ToolCall(id="call_1", name="get_weather", arguments='{"city": "Oslo", "days": 2}')]

    assert assert_tool_calls_valid(calls, WEATHER_TOOLS) == [{"city": "Oslo", "days": 2}]


def test_tool_call_problems_are_all_reported() -> None:
    calls: list[Any] = [
        ToolCall(id="call_1", name="get_weather", arguments='{"city": 5}'),
        {"id": "call_2", "type": "function", "function": {"name": "get_wether", "arguments": "{}"}},
        {"id": "call_3", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"'}},
    ]

    with pytest.raises(ToolCallError) as info:
        assert_tool_calls_valid(calls, WEATHER_TOOLS)

    message = str(info.value)
    assert "3 problem(s) in 3 tool call(s)" in message
    assert "tool call 'call_1' (get_weather): /city: 5 is not of type 'string'" in message
    assert "tool call 'call_2' (get_wether): unknown tool; defined tools: get_weather" in message
    assert "tool call 'call_3' (get_weather): arguments are not valid JSON" in message


def test_tool_call_flat_tools_and_dict_arguments() -> None:
    tools = [{"name": "get_weather", "parameters": {"type": "object", "required": ["city"]}}]
    calls = [{"id": "c", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]

    assert assert_tool_calls_valid(calls, tools) == [{"city": "Oslo"}]


json_like = st.text(alphabet='{}[]":,0123456789abc`\n -eE.truefalsn\\json', max_size=120)


@given(st.one_of(st.text(), json_like), st.booleans())
def test_extractor_raises_only_its_own_error(text: str, strict: bool) -> None:
    try:
        extracted = extract_json(text, strict=strict)
    except JSONExtractionError:
        return
    assert extracted.raw == text


def test_deep_nesting_is_extraction_error() -> None:
    with pytest.raises(JSONExtractionError, match="nested too deeply"):
        extract_json("[" * 100_000, strict=True)

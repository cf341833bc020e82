"""Structured output checked against a JSON Schema, and tool-call arguments against tools."""

from __future__ import annotations

import pytest

from pytest_kimi.grounding import assert_matches_schema, assert_tool_calls_valid, extract_json

SPEC_SHEET = """Product sheet
chip: Apple M1
year: 2020
cores: 8
"""

SCHEMA = {
    "type": "object",
    "required": ["chip", "year", "cores"],
    "properties": {
        "chip": {"type": "string"},
        "year": {"type": "integer"},
        "cores": {"type": "integer"},
    },
    "additionalProperties": False,
}

LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_chip",
        "description": "Look up a chip by its name",
        "parameters": {
            "type": "object",
            "properties": {"chip": {"type": "string"}},
            "required": ["chip"],
        },
    },
}


def test_json_mode_output_matches_schema(kimi):
    reply = kimi.chat(
        f"{SPEC_SHEET}\nReturn the chip, year and cores of this product as a JSON object.",
        response_format={"type": "json_object"},
        max_tokens=32768,
    )

    # Strict: JSON mode must return raw JSON, not a fenced block.
    extracted = extract_json(reply.text, strict=True)
    assert_matches_schema(extracted.value, SCHEMA)
    assert extracted.value == {"chip": "Apple M1", "year": 2020, "cores": 8}


@pytest.mark.kimi(modes=["instant"])
def test_json_schema_response_format(kimi):
    reply = kimi.chat(
        f"{SPEC_SHEET}\nReturn the product as JSON.",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "product", "schema": SCHEMA, "strict": True},
        },
        max_tokens=4096,
    )

    assert_matches_schema(reply.text, SCHEMA)


def test_tool_call_arguments_match_the_tool_schema(kimi):
    reply = kimi.chat(
        "Use the tool to look up the chip named 'Apple M1'.",
        tools=[LOOKUP_TOOL],
        max_tokens=32768,
    )

    assert reply.tool_calls, f"expected a tool call, got content {reply.text[:200]!r}"
    assert_tool_calls_valid(reply.tool_calls, [LOOKUP_TOOL])

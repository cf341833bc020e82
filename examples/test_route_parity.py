"""Route parity: a second route (for example self-hosted INT4) against the reference route.

The routes come from `[tool.pytest_kimi.parity]` in pyproject.toml. In this
repository both are emulator routes; point them at `moonshot` and your vLLM
route to compare real servers.
"""

from __future__ import annotations

from pytest_kimi.parity import assert_parity

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_tool_call_parity(kimi_compare):
    comparison = kimi_compare(
        "What is the weather in Tokyo right now?",
        tools=[WEATHER_TOOL],
        max_tokens=32768,
    )

    assert_parity(comparison, margin=0.1)


def test_answer_parity(kimi_compare):
    comparison = kimi_compare(
        "What is 17 * 23? Reply with just the number.", mode="instant", max_tokens=4096
    )

    assert_parity(comparison, margin=0.0)

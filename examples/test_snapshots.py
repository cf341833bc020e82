"""Snapshots of replies, compared with policies that tolerate harmless variation.

Review changes after a model, route or quantization upgrade with
`pytest examples --kimi-report new.json` and `pytest-kimi compare old.json new.json`;
accept them with `pytest examples --snapshot-update`.
"""

from __future__ import annotations

from pytest_kimi.snapshot import Policy, kimi_snapshot

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


def test_tool_call_snapshot(kimi, snapshot):
    reply = kimi.chat("What is the weather in Tokyo?", tools=[WEATHER_TOOL], max_tokens=32768)

    # Tool-call ids are masked; the tool name and arguments must match exactly.
    assert reply == kimi_snapshot(snapshot)


def test_free_text_snapshot(kimi, snapshot):
    reply = kimi.chat(
        "Office hours: the office opens at 9am and closes at 5pm.\n"
        "When does the office open?",
        max_tokens=32768,
    )

    assert reply == kimi_snapshot(snapshot, policies={"content": Policy.similar(0.8)})

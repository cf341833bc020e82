"""A multi-turn tool loop: the model calls a tool, gets the result, and answers."""

from __future__ import annotations

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}

FORECASTS = {"Tokyo": {"temp_c": 21, "sky": "clear"}}


def get_weather(city: str) -> dict[str, object]:
    return FORECASTS.get(city, {"error": f"no forecast for {city}"})


def test_weather_question_calls_the_tool_and_uses_its_result(kimi):
    conversation = kimi.conversation(
        system="You answer weather questions. Always call get_weather.",
        tools=[WEATHER_TOOL],
        max_tokens=32768,
    )
    first = conversation.send("What is the weather in Tokyo right now?")

    assert first.finish_reason == "tool_calls"
    assert [call.name for call in first.tool_calls] == ["get_weather"]
    assert first.tool_calls[0].parsed_arguments() == {"city": "Tokyo"}

    final = conversation.run_tools({"get_weather": get_weather})

    assert final.finish_reason == "stop"
    assert "21" in final.text
    # The assistant turn went back with the tool-call id byte for byte.
    assistant_turn = conversation.messages[2]
    assert assistant_turn["tool_calls"][0]["id"] == first.tool_calls[0].id
    assert conversation.messages[3]["tool_call_id"] == first.tool_calls[0].id

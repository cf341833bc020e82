"""Migration check: the same tool conversation over the OpenAI and Anthropic protocols.

Needs two routes in pyproject.toml, for example both on the embedded emulator:

    [tool.pytest_kimi.routes.emulator-anthropic]
    flavor = "anthropic"
    emulator = true

Against Moonshot, point a chat-completions route at https://api.moonshot.ai/v1
and an anthropic route at https://api.moonshot.ai/anthropic/v1, then pass
their names to `protocol_clients`.
"""

from __future__ import annotations

import pytest

from pytest_kimi.migration import (
    ConversationSpec,
    assert_migration_equivalent,
    compare_protocols,
    protocol_clients,
)

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


def get_weather(city: str) -> dict[str, object]:
    return {"city": city, "temp_c": 21, "sky": "clear"}


@pytest.mark.parametrize("mode", ["thinking", "instant"])
def test_tool_loop_survives_protocol_switch(request: pytest.FixtureRequest, mode: str) -> None:
    openai_client, anthropic_client = protocol_clients(
        request, openai_route="emulator", anthropic_route="emulator-anthropic", mode=mode
    )
    spec = ConversationSpec(
        turns=["What is the weather in 'Tokyo'?"],
        tools=[WEATHER_TOOL],
        tool_handlers={"get_weather": get_weather},
    )
    result = compare_protocols(openai_client, anthropic_client, spec)
    assert_migration_equivalent(result)
    first_call = result.anthropic.replies[0].tool_calls[0]
    assert first_call.parsed_arguments() == {"city": "Tokyo"}

"""The client over real loopback HTTP to the emulator: modes, streaming, conversations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.errors import HistoryProtocolError, KimiRouteError

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


@pytest.mark.parametrize("flavor", ["moonshot", "vllm", "sglang", "openai"])
@pytest.mark.parametrize("mode", ["thinking", "instant"])
def test_stream_and_non_stream_give_same_reply(make_client: Any, flavor: str, mode: str) -> None:
    client = make_client(flavor, mode)
    plain = client.chat("What is 12 + 30?", stream=False)
    streamed = client.chat("What is 12 + 30?", stream=True)
    assert plain.content == streamed.content == "42"
    assert plain.reasoning == streamed.reasoning
    assert plain.finish_reason == streamed.finish_reason == "stop"
    assert plain.usage.as_dict() == streamed.usage.as_dict()
    assert streamed.timings.time_to_first_token_s is not None
    assert plain.emulated and streamed.emulated


def test_vllm_route_reads_reasoning_field(make_client: Any) -> None:
    reply = make_client("vllm", "thinking").chat("What is 2 + 2?")
    assert reply.reasoning_field == "reasoning"
    assert reply.has_reasoning()


def test_request_fields_as_sent(make_client: Any, emulator: EmulatorServer) -> None:
    client = make_client("vllm", "instant")
    client.chat(
        "hi there friend", extra_body={"top_k": 20, "chat_template_kwargs": {"custom_flag": 1}}
    )
    body = emulator.requests[-1].body
    assert "extra_body" not in body
    assert body["chat_template_kwargs"] == {"thinking": False, "custom_flag": 1}
    assert body["top_k"] == 20


def test_official_request_has_thinking_object(make_client: Any, emulator: EmulatorServer) -> None:
    make_client("moonshot", "preserve").chat("What is 1 + 1?")
    body = emulator.requests[-1].body
    assert body["thinking"] == {"type": "enabled", "keep": "all"}
    assert "chat_template_kwargs" not in body


def test_stream_requests_usage(make_client: Any, emulator: EmulatorServer) -> None:
    reply = make_client("vllm", "thinking").chat("What is 3 * 3?", stream=True)
    assert emulator.requests[-1].body["stream_options"] == {"include_usage": True}
    assert reply.usage.total_tokens is not None


def _weather_turns(make_client: Any, flavor: str, emulator: EmulatorServer) -> Any:
    client = make_client(flavor, "thinking")
    conversation = client.conversation(system="You are a weather bot.", tools=[WEATHER_TOOL])
    first = conversation.send("What is the weather in Tokyo right now?")
    assert first.finish_reason == "tool_calls"
    call = first.tool_calls[0]
    conversation.add_tool_result(call.id, {"temp_c": 21})
    second = conversation.send()
    return first, second, emulator.requests[-1].body


def test_tool_loop_writes_reasoning_back_official(
    make_client: Any, emulator: EmulatorServer
) -> None:
    first, second, body = _weather_turns(make_client, "moonshot", emulator)
    messages = body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[2]["reasoning_content"] == first.reasoning
    assert messages[2]["tool_calls"][0]["id"] == first.tool_calls[0].id
    assert messages[3]["tool_call_id"] == first.tool_calls[0].id
    assert "temp_c = 21" in second.text


def test_tool_loop_uses_reasoning_field_on_vllm(make_client: Any, emulator: EmulatorServer) -> None:
    first, _, body = _weather_turns(make_client, "vllm", emulator)
    assistant = body["messages"][2]
    assert assistant["reasoning"] == first.reasoning
    assert "reasoning_content" not in assistant


def test_scripted_tool_call_id_round_trips_byte_for_byte(
    make_client: Any, emulator: EmulatorServer
) -> None:
    emulator.script(
        match={"last_role": "user", "contains": "CITY_A"},
        reply={
            "reasoning": "Need the weather; call the tool.",
            "tool_calls": [
                {
                    "id": "functions.get_weather:0",
                    "name": "get_weather",
                    "arguments": '{"city":"CITY_A"}',
                }
            ],
        },
        times=1,
    )
    client = make_client("moonshot", "thinking")
    conversation = client.conversation(system="sys", tools=[WEATHER_TOOL])
    conversation.send("Weather in CITY_A?")
    conversation.add_tool_result("functions.get_weather:0", {"temp_c": 21})
    conversation.send()
    messages = emulator.requests[-1].body["messages"]
    assert messages[2]["reasoning_content"] == "Need the weather; call the tool."
    assert messages[2]["tool_calls"][0]["id"] == "functions.get_weather:0"
    assert messages[3]["tool_call_id"] == "functions.get_weather:0"


def test_empty_reasoning_is_written_back(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(
        match={"contains": "empty reasoning please"},
        reply={"reasoning": "", "content": "ok"},
        times=1,
    )
    client = make_client("moonshot", "thinking", health_checks=False)
    conversation = client.conversation()
    conversation.send("empty reasoning please")
    conversation.send("and again?")
    assert emulator.requests[-1].body["messages"][1]["reasoning_content"] == ""


def test_dropped_reasoning_is_history_protocol_error(make_client: Any) -> None:
    client = make_client("moonshot", "thinking")
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Weather in CITY_A?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "functions.get_weather:0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"CITY_A"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": '{"temp_c": 21}'},
    ]
    with pytest.raises(
        HistoryProtocolError, match="missing in assistant tool call message at index 2"
    ) as info:
        client.chat(messages, tools=[WEATHER_TOOL])
    assert info.value.status_code == 400
    assert info.value.error_type == "invalid_request_error"
    assert "harness/protocol error" in str(info.value)


def test_run_tools_loop(make_client: Any) -> None:
    client = make_client("sglang", "thinking")
    conversation = client.conversation(tools=[WEATHER_TOOL])
    conversation.send("What is the weather in Paris?")
    seen: list[str] = []

    def get_weather(city: str) -> dict[str, Any]:
        seen.append(city)
        return {"temp_c": 18, "city": city}

    final = conversation.run_tools({"get_weather": get_weather})
    assert seen == ["Paris"]
    assert final.finish_reason == "stop"
    assert "temp_c = 18" in final.text


def test_rewritten_ids_surface_as_route_error(make_client: Any) -> None:
    from pytest_kimi.emulator.profile import Profile

    profile = Profile(
        flavor="vllm",
        model="moonshotai/Kimi-K2.6",
        reasoning_field="reasoning",
        enforce_sampling=False,
        rewrite_tool_ids=True,
    )
    client = make_client("vllm", "thinking", profile=profile)
    conversation = client.conversation(tools=[WEATHER_TOOL])
    first = conversation.send("What is the weather in Oslo?")
    conversation.add_tool_result(first.tool_calls[0].id, {"temp_c": 3})
    with pytest.raises(KimiRouteError, match="unparsed tool-call markup"):
        conversation.send("And the weather in Bergen?")


def test_reply_json_round_trips_tool_arguments(make_client: Any) -> None:
    reply = make_client("moonshot", "instant").chat(
        "What is the weather in Rome?", tools=[WEATHER_TOOL]
    )
    assert json.loads(reply.tool_calls[0].arguments) == {"city": "Rome"}

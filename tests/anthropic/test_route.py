"""`KimiClient` on an anthropic-flavor route, against the emulator over loopback."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from pytest_kimi.client.client import KimiClient
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.errors import (
    HistoryProtocolError,
    KimiAPIError,
    RequestRejectedError,
)
from tests.anthropic.conftest import WEATHER_TOOL

ClientFactory = Callable[..., KimiClient]
QUESTION = "What is the weather in 'Tokyo'?"


def _weather(city: str) -> dict[str, Any]:
    return {"city": city, "temp_c": 21}


def _tool_loop(client: KimiClient) -> list[Any]:
    conversation = client.conversation(tools=[WEATHER_TOOL])
    conversation.send(QUESTION)
    conversation.run_tools({"get_weather": _weather})
    return conversation.replies


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_loop_matches_chat_route(make_client: ClientFactory, stream: bool) -> None:
    chat_replies = _tool_loop(make_client("moonshot", stream=stream))
    messages_replies = _tool_loop(make_client("anthropic", stream=stream))
    assert len(messages_replies) == len(chat_replies) == 2
    for chat, messages in zip(chat_replies, messages_replies, strict=True):
        assert [c.to_openai() for c in messages.tool_calls] == [
            c.to_openai() for c in chat.tool_calls
        ]
        assert messages.content == chat.content
        assert messages.finish_reason == chat.finish_reason
    assert "temp_c = 21" in messages_replies[-1].content


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_reply_fields_filled(make_client: ClientFactory, stream: bool) -> None:
    reply = make_client("anthropic", stream=stream).chat("What is 17 * 23?")
    assert reply.protocol == "anthropic"
    assert reply.emulated is True
    assert reply.streamed is stream
    assert "391" in reply.text
    assert reply.has_reasoning()
    assert reply.reasoning_field == "thinking"
    assert reply.usage.prompt_tokens
    assert reply.usage.completion_tokens
    assert [block["type"] for block in reply.extra_content_blocks] == ["thinking", "text"]
    if stream:
        assert reply.timings.time_to_first_token_s is not None


def test_history_keeps_thinking_blocks(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    client = make_client("anthropic")
    conversation = client.conversation(tools=[WEATHER_TOOL])
    conversation.send(QUESTION)
    conversation.run_tools({"get_weather": _weather})
    sent = emulator.requests[-1].body["messages"]
    assistant = sent[1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0]["type"] == "thinking"
    assert assistant["content"][0]["signature"].startswith("pytest-kimi-emulator.")
    assert sent[2]["content"][0]["type"] == "tool_result"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_dropped_thinking_is_history_error(make_client: ClientFactory, stream: bool) -> None:
    conversation = make_client("anthropic", stream=stream).conversation(tools=[WEATHER_TOOL])
    first = conversation.send(QUESTION)
    assistant = conversation.messages[-1]
    assistant["content"] = [b for b in assistant["content"] if b["type"] != "thinking"]
    conversation.add_tool_result(first.tool_calls[0].id, _weather("Tokyo"))
    with pytest.raises(HistoryProtocolError) as caught:
        conversation.send()
    assert caught.value.status_code == 400
    assert "reasoning_content is missing" in str(caught.value)


def test_instant_mode_sends_disabled(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    reply = make_client("anthropic", mode="instant").chat("What is 17 * 23?")
    assert emulator.requests[-1].body["thinking"] == {"type": "disabled"}
    assert reply.reasoning is None


def test_bearer_and_version_headers(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    make_client("anthropic", api_key="sk-test").chat("What is 17 * 23?")
    headers = emulator.requests[-1].headers
    assert headers["authorization"] == "<masked>"
    assert headers["anthropic-version"] == "2023-06-01"
    assert "x-api-key" not in headers


def test_retry_honours_retry_after(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": "17 * 23"}, fault={"status": 429, "retry_after": 0}, times=1)
    reply = make_client("anthropic").chat("What is 17 * 23?")
    assert reply.timings.attempts == 2
    assert "391" in reply.text


def test_non_retryable_error_raised(make_client: ClientFactory) -> None:
    with pytest.raises(RequestRejectedError, match="invalid temperature"):
        make_client("anthropic").chat("What is 17 * 23?", temperature=0.2)


def test_persistent_overload_gives_up(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": "17 * 23"}, fault={"status": 529}, times=5)
    with pytest.raises(KimiAPIError) as caught:
        make_client("anthropic").chat("What is 17 * 23?")
    assert caught.value.status_code == 529
    assert caught.value.error_type == "overloaded_error"
    assert "after 3 attempts" in str(caught.value)


def test_image_reaches_emulator_as_block(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (20, 120, 220)).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    parts = [{"type": "image_url", "image_url": {"url": url}}, "Describe the image."]
    reply = make_client("anthropic").chat(parts)
    block = emulator.requests[-1].body["messages"][0]["content"][0]
    assert block["type"] == "image"
    assert block["source"]["data"] == url.split(",", 1)[1]
    assert reply.status_code == 200

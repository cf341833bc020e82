"""The emulator's Messages API endpoint, over loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from pytest_kimi.emulator.server import EmulatorServer


def _post(server: EmulatorServer, body: dict[str, Any], profile: str = "anthropic") -> Any:
    url = f"{server.url}/{profile}/v1/messages"
    return httpx2.post(url, json=body, headers={"authorization": "Bearer test"}, timeout=10)


def _body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "kimi-k2.6",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "What is 17 * 23?"}],
    }
    body.update(extra)
    return body


def test_message_has_thinking_and_text(emulator: EmulatorServer) -> None:
    response = _post(emulator, _body(thinking={"type": "enabled"}))
    assert response.status_code == 200
    assert response.headers["x-pytest-kimi-emulator"] == "1"
    message = response.json()
    assert [block["type"] for block in message["content"]] == ["thinking", "text"]
    assert message["content"][0]["signature"]
    assert "391" in message["content"][1]["text"]
    assert message["stop_reason"] == "end_turn"


def test_disabled_thinking_has_no_block(emulator: EmulatorServer) -> None:
    message = _post(emulator, _body(thinking={"type": "disabled"})).json()
    assert [block["type"] for block in message["content"]] == ["text"]


def test_stream_sends_named_events(emulator: EmulatorServer) -> None:
    response = _post(emulator, _body(stream=True))
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [
        line[len("event: ") :] for line in response.text.splitlines() if line.startswith("event:")
    ]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert "signature_delta" in response.text


def test_missing_thinking_block_rejected(emulator: EmulatorServer) -> None:
    messages = [
        {"role": "user", "content": "Weather in Tokyo?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "call-1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "call-1", "content": "sunny"}],
        },
    ]
    response = _post(emulator, _body(messages=messages, thinking={"type": "enabled"}))
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert (
        "reasoning_content is missing in assistant tool call message at index 1"
        in (error["error"]["message"])
    )


def test_missing_thinking_block_ok_when_disabled(emulator: EmulatorServer) -> None:
    messages = [
        {"role": "user", "content": "Weather in Tokyo?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "c1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "ok"}],
        },
    ]
    response = _post(emulator, _body(messages=messages, thinking={"type": "disabled"}))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"temperature": 0.7}, "invalid temperature: only 1 is allowed"),
        ({"top_p": 0.5}, "invalid top_p"),
        ({"max_tokens": 300_000}, "exceeded model token limit"),
        ({"thinking": {"type": "adaptive"}}, "thinking.type"),
    ],
    ids=["temperature", "top_p", "context", "thinking-type"],
)
def test_contract_errors(emulator: EmulatorServer, extra: dict[str, Any], message: str) -> None:
    response = _post(emulator, _body(**extra))
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_named_tool_choice_rejected_with_thinking(emulator: EmulatorServer) -> None:
    tools = [{"name": "get_weather", "input_schema": {"type": "object"}}]
    body = _body(tools=tools, tool_choice={"type": "tool", "name": "get_weather"})
    response = _post(emulator, body)
    assert response.status_code == 400
    assert "'specified' is incompatible" in response.json()["error"]["message"]


def test_max_tokens_required(emulator: EmulatorServer) -> None:
    body = _body()
    del body["max_tokens"]
    response = _post(emulator, body)
    assert response.status_code == 400
    assert "max_tokens" in response.json()["error"]["message"]


def test_budget_tokens_accepted(emulator: EmulatorServer) -> None:
    response = _post(emulator, _body(thinking={"type": "enabled", "budget_tokens": 2048}))
    assert response.status_code == 200


def test_chat_profile_does_not_serve_messages(emulator: EmulatorServer) -> None:
    response = _post(emulator, _body(), profile="moonshot")
    assert response.status_code == 404
    assert response.json()["type"] == "error"


def test_scripted_status_fault(emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": "17 * 23"}, fault={"status": 429, "retry_after": 0}, times=1)
    response = _post(emulator, _body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "0"
    assert response.json()["error"]["type"] == "rate_limit_error"

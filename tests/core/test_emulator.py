"""The emulator's contract errors and response shapes, over real HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from pytest_kimi.emulator.server import EmulatorServer

MSG = [{"role": "user", "content": "hello there emulator"}]


def _post(
    server: EmulatorServer, body: dict[str, Any], profile: str = "moonshot"
) -> tuple[int, Any]:
    request = urllib.request.Request(
        server.base_url(profile) + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _body(**fields: Any) -> dict[str, Any]:
    return {"model": "kimi-k2.6", "messages": MSG, **fields}


TOOL_TURN = [
    {"role": "user", "content": "weather?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "functions.w:0",
                "type": "function",
                "function": {"name": "w", "arguments": "{}"},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "functions.w:0", "content": "{}"},
]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"temperature": 0.7}, "invalid temperature: only 1 is allowed for this model"),
        (
            {"temperature": 0.7, "thinking": {"type": "disabled"}},
            "invalid temperature: only 0.6 is allowed for this model",
        ),
        ({"top_p": 0.8}, "invalid top_p: only 0.95 is allowed"),
        ({"n": 2}, "invalid n: only 1 is allowed"),
        ({"presence_penalty": 0.5}, "invalid presence_penalty"),
        ({"frequency_penalty": 0.5}, "invalid frequency_penalty"),
        (
            {"thinking": {"type": "enabled"}, "reasoning_effort": "high"},
            "cannot specify both 'thinking' and 'reasoning_effort'",
        ),
        ({"thinking": {"type": "enabled", "effort": "high"}}, "unknown field thinking.effort"),
        (
            {"messages": TOOL_TURN},
            "thinking is enabled but reasoning_content is missing in assistant tool call message at index 1",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"},
                ],
                "thinking": {"type": "enabled", "keep": "all"},
            },
            "requires reasoning_content on every assistant message, but assistant message at index 1",
        ),
        (
            {
                "tool_choice": "required",
                "tools": [{"type": "function", "function": {"name": "get_x"}}],
            },
            "tool_choice 'required' is incompatible with thinking enabled",
        ),
        (
            {
                "tool_choice": {"type": "function", "function": {"name": "get_x"}},
                "tools": [{"type": "function", "function": {"name": "get_x"}}],
            },
            "tool_choice 'specified' is incompatible with thinking enabled",
        ),
        ({"max_tokens": 262_140}, "Your request exceeded model token limit : 262144"),
        (
            {"messages": [{"role": "user", "content": "x" * 1_100_000}]},
            "Input token length too long",
        ),
    ],
    ids=[
        "temperature",
        "temperature-instant",
        "top_p",
        "n",
        "presence",
        "frequency",
        "reasoning_effort",
        "thinking-extra-key",
        "history",
        "keep-all",
        "tool-required",
        "tool-named",
        "window",
        "input-too-long",
    ],
)
def test_contract_errors(emulator: EmulatorServer, fields: dict[str, Any], message: str) -> None:
    status, body = _post(emulator, _body(**fields))
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert message in body["error"]["message"]


@pytest.mark.parametrize(
    "fields",
    [
        {"temperature": 1.0, "top_p": 0.95, "n": 1, "presence_penalty": 0, "frequency_penalty": 0},
        {"temperature": 0.6, "thinking": {"type": "disabled"}},
        {
            "tool_choice": "required",
            "thinking": {"type": "disabled"},
            "tools": [{"type": "function", "function": {"name": "get_x"}}],
        },
    ],
    ids=["defaults-thinking", "default-instant", "forced-tool-instant"],
)
def test_default_values_are_accepted(emulator: EmulatorServer, fields: dict[str, Any]) -> None:
    status, _ = _post(emulator, _body(**fields))
    assert status == 200


def test_vllm_profile_ignores_official_rules(emulator: EmulatorServer) -> None:
    status, body = _post(
        emulator,
        {"model": "moonshotai/Kimi-K2.6", "messages": TOOL_TURN, "temperature": 0.3},
        profile="vllm",
    )
    assert status == 200
    assert "reasoning" in body["choices"][0]["message"]
    assert "reasoning_content" not in body["choices"][0]["message"]


def test_vllm_profile_reads_chat_template_kwargs(emulator: EmulatorServer) -> None:
    base = {"model": "moonshotai/Kimi-K2.6", "messages": MSG}
    _, on = _post(emulator, base, profile="vllm")
    _, off = _post(emulator, {**base, "chat_template_kwargs": {"thinking": False}}, profile="vllm")
    assert "reasoning" in on["choices"][0]["message"]
    assert "reasoning" not in off["choices"][0]["message"]


def test_unknown_model_is_404(emulator: EmulatorServer) -> None:
    status, body = _post(emulator, {"model": "kimi-k2.5", "messages": MSG})
    assert status == 404
    assert "kimi-k2.5" in body["error"]["message"]


def test_default_answer_quotes_and_cites_context(emulator: EmulatorServer) -> None:
    document = "[doc1:L1] The office opens at 9am.\n[doc1:L2] Refunds are issued within 14 days.\n"
    _, body = _post(
        emulator,
        _body(messages=[{"role": "user", "content": document + "How many days do refunds take?"}]),
    )
    content = body["choices"][0]["message"]["content"]
    assert '"Refunds are issued within 14 days."' in content
    assert content.endswith("[doc1:L2]")


def test_default_answer_refuses_without_support(emulator: EmulatorServer) -> None:
    document = "[1] The office opens at 9am.\n"
    _, body = _post(
        emulator, _body(messages=[{"role": "user", "content": document + "Who founded Rome?"}])
    )
    assert "does not contain" in body["choices"][0]["message"]["content"]


def test_models_endpoint(emulator: EmulatorServer) -> None:
    with urllib.request.urlopen(emulator.base_url("vllm") + "/models", timeout=10) as response:
        data = json.loads(response.read())
    assert data["data"][0]["id"] == "moonshotai/Kimi-K2.6"


def test_api_key_profile_rejects_wrong_key(emulator: EmulatorServer) -> None:
    from pytest_kimi.emulator.profile import Profile

    base = emulator.add_profile("locked", Profile(api_key="sk-PLACEHOLDER-1"))
    request = urllib.request.Request(
        base + "/chat/completions",
        data=json.dumps(_body()).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer wrong"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    info.value.close()
    assert info.value.code == 401
    assert emulator.requests[-1].headers["authorization"] == "<masked>"


def test_standalone_command_serves(tmp_path: Any) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_kimi.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "emulator output, not Kimi K2.6 output" in first
        url = first.rsplit(" ", 1)[-1].strip()
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                    assert json.loads(response.read())["status"] == "ok"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0


def _png_data_url() -> str:
    from pytest_kimi.media import bar_chart

    return bar_chart(seed=1).part()["image_url"]["url"]


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@not-base64@@@"}},
         "base64"),
        ({"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,"
                                             + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="}},
         "image/png"),
        ({"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0eAAAAAAAAABoAAAAMAAAAAQABAAEAGAAAAP8A"}},
         "bmp"),
        ({"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAGlzb21tcDQy"}},
         "video"),
    ],
    ids=["bad-base64", "mime-mismatch", "unsupported-format", "video-on-vllm"],
)
def test_media_errors_are_400(emulator: EmulatorServer, part: dict[str, Any], message: str) -> None:
    body = {"model": "moonshotai/Kimi-K2.6",
            "messages": [{"role": "user", "content": [part, {"type": "text", "text": "what?"}]}]}
    status, answer = _post(emulator, body, profile="vllm")
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert message in answer["error"]["message"].lower()


def test_valid_image_is_accepted(emulator: EmulatorServer) -> None:
    part = {"type": "image_url", "image_url": {"url": _png_data_url()}}
    status, _ = _post(emulator, _body(messages=[{"role": "user", "content": [part, {"type": "text", "text": "Which bar is tallest?"}]}]))
    assert status == 200


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"match": {"regex": "(("}, "reply": {"content": "x"}}, "invalid match.regex '(('"),
        ({"match": {}, "fault": {"status": "boom"}}, "invalid fault.status"),
        ({"match": {}, "fault": {"truncate_after": "x"}}, "invalid fault.truncate_after"),
        ({"match": {}, "fault": {"status": 99}}, "invalid fault.status"),
    ],
    ids=["regex", "status-type", "truncate-type", "status-range"],
)
def test_bad_scripts_are_config_errors(emulator: EmulatorServer, script: dict[str, Any], message: str) -> None:
    from pytest_kimi.errors import KimiConfigError

    with pytest.raises(KimiConfigError, match=re.escape(message)):
        emulator.script(**script)


def test_message_content_must_be_text_or_parts(emulator: EmulatorServer) -> None:
    status, body = _post(emulator, _body(messages=[{"role": "user", "content": 5}]))
    assert status == 400
    assert "messages[0].content must be a string" in body["error"]["message"]

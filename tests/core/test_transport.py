"""Transport faults: retries, Retry-After, timeouts, broken bodies and unreachable routes."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.transport import RetryPolicy, parse_retry_after, sse_payloads
from pytest_kimi.config.routes import route_from_table
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.errors import (
    KimiAPIError,
    KimiProtocolError,
    KimiTransportError,
    RequestRejectedError,
)

QUESTION = "What is 6 * 7?"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429},
        {"status": 429, "retry_after": 0.05},
        {"status": 500},
        {"status": 503},
        {"drop_connection": True},
    ],
    ids=["429", "429-retry-after", "500", "503", "dropped"],
)
def test_transient_fault_is_retried(
    make_client: Any, emulator: EmulatorServer, fault: dict[str, Any], stream: bool
) -> None:
    emulator.script(match={"contains": QUESTION}, fault=fault, times=1)
    reply = make_client("moonshot", "instant").chat(QUESTION, stream=stream)
    assert reply.content == "42"
    assert reply.timings.attempts == 2


def test_truncated_stream_is_retried(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"truncate_after": 2}, times=1)
    reply = make_client("moonshot", "thinking").chat(QUESTION, stream=True)
    assert reply.content == "42"
    assert reply.timings.attempts == 2


def test_retries_are_bounded(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"status": 429})
    client = make_client("moonshot", "instant", retry=RetryPolicy(max_retries=2, backoff_s=0.001))
    with pytest.raises(KimiAPIError, match="after 3 attempts") as info:
        client.chat(QUESTION)
    assert info.value.status_code == 429
    assert info.value.error_type == "rate_limit_reached_error"
    assert "organization max RPM" in (info.value.error_message or "")
    assert len([r for r in emulator.requests if QUESTION in str(r.body)]) == 3


def test_client_error_is_not_retried(make_client: Any, emulator: EmulatorServer) -> None:
    client = make_client("moonshot", "thinking")
    with pytest.raises(RequestRejectedError, match="invalid temperature: only 1 is allowed"):
        client.chat(QUESTION, temperature=0.7)
    assert len(emulator.requests) == 1


def test_retry_after_header_is_honoured() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({}) is None
    policy = RetryPolicy(max_retries=3, backoff_s=10.0, max_backoff_s=5.0)
    assert policy.delay(1, 0.5) == 0.5
    assert policy.delay(1, 60.0) == 5.0
    assert policy.delay(3, None) <= 5.0


def test_slow_first_token_times_out(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"slow_first_token_s": 1.0})
    client = make_client("moonshot", "instant", timeout_s=0.2, retry=RetryPolicy(max_retries=0))
    with pytest.raises(KimiTransportError, match="timed out"):
        client.chat(QUESTION)


def test_malformed_chunk_is_protocol_error(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"malformed_chunk": True})
    with pytest.raises(KimiProtocolError, match="stream chunk that is not valid JSON"):
        make_client("moonshot", "thinking").chat(QUESTION, stream=True)


def test_non_json_body_is_protocol_error(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"body": "<html>gateway</html>"})
    with pytest.raises(KimiProtocolError, match="not valid JSON.*<html>gateway"):
        make_client("moonshot", "thinking").chat(QUESTION)


def test_non_sse_stream_is_protocol_error(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(
        match={"contains": QUESTION},
        fault={"body": '{"ok": true}', "content_type": "application/json"},
    )
    with pytest.raises(KimiProtocolError, match="instead of text/event-stream"):
        make_client("moonshot", "thinking").chat(QUESTION, stream=True)


def test_empty_stream_is_protocol_error(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"empty_stream": True})
    with pytest.raises(KimiProtocolError, match="empty event stream"):
        make_client("moonshot", "thinking").chat(QUESTION, stream=True)


def test_unreachable_base_url_names_route_and_fix() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    route = route_from_table(
        "down", {"flavor": "vllm", "base_url": f"http://127.0.0.1:{port}/v1"}, source="test"
    )
    client = KimiClient(route, "thinking", retry=RetryPolicy(max_retries=1, backoff_s=0.001))
    with pytest.raises(KimiTransportError, match=r"cannot connect to route 'down'.*check base_url"):
        client.chat("hi")
    client.close()


def test_error_event_inside_stream_is_api_error(make_client: Any, emulator: EmulatorServer) -> None:
    emulator.script(match={"contains": QUESTION}, fault={"status": 400, "message": "bad thing"})
    with pytest.raises(KimiAPIError, match="HTTP 400 invalid_request_error: bad thing"):
        make_client("moonshot", "thinking").chat(QUESTION, stream=True)


def test_sse_payloads_join_multiline_data() -> None:
    lines = iter(["data: a", "data: b", "", ": comment", "data:c", ""])
    assert list(sse_payloads(lines)) == ["a\nb", "c"]

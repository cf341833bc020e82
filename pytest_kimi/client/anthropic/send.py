"""Send Messages API requests over plain HTTP and map the answer to `Reply`.

The request goes through the same `httpx2.Client` as the route's openai
client, so a record/replay transport wrapper sees both protocols, and
cassettes use one format.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from pytest_kimi.client.anthropic.body import ANTHROPIC_VERSION
from pytest_kimi.client.anthropic.parse import (
    AnthropicStreamAccumulator,
    ParsedMessage,
    parse_message,
)
from pytest_kimi.client.reply import Reply, Timings
from pytest_kimi.client.transport import (
    RETRYABLE_STATUS,
    Failure,
    api_error,
    broken_stream_error,
    connect_error,
    parse_retry_after,
    retry_loop,
    sse_payloads,
    timeout_error,
)
from pytest_kimi.errors import KimiAPIError, KimiProtocolError

if TYPE_CHECKING:
    from pytest_kimi.client.client import KimiClient

__all__ = ["messages_url", "request_headers", "send_anthropic"]

logger = logging.getLogger("pytest_kimi")

EMULATOR_HEADER = "x-pytest-kimi-emulator"
# Anthropic's API returns 529 `overloaded_error` when busy, which is transient.
_RETRYABLE = RETRYABLE_STATUS | {529}
# Status codes for error events that arrive inside a 200 stream.
_STREAM_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


@dataclass
class _Exchange:
    status_code: int
    headers: dict[str, str]
    message: ParsedMessage
    response: Any
    streamed: bool
    time_to_first_token_s: float | None
    total_s: float
    attempts: int = 1


class _TruncatedStream(KimiProtocolError):
    """The stream ended before `message_stop`; retried like a dropped connection."""


def messages_url(base_url: str) -> str:
    """Return the Messages endpoint of a base URL such as `https://api.moonshot.ai/anthropic/v1`."""
    return base_url.rstrip("/") + "/messages"


def request_headers(client: KimiClient) -> dict[str, str]:
    """Return the headers of a Messages API request on `client`'s route.

    The key goes in `Authorization: Bearer`, as Claude Code sends it to
    Moonshot's Anthropic route; whether that route also reads `x-api-key` is
    unconfirmed, so it is not sent.
    """
    headers = {
        "authorization": f"Bearer {client.openai.api_key}",
        "anthropic-version": ANTHROPIC_VERSION,
        "content-type": "application/json",
        "accept": "text/event-stream, application/json",
    }
    headers.update({key.lower(): value for key, value in client.route.headers.items()})
    return headers


def _decode(text: str, route: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KimiProtocolError(
            f"route {route!r} sent {what} that is not valid JSON ({exc.msg} at position "
            f"{exc.pos}): {text[:200]!r}. Check that the base URL points at a Messages API "
            "endpoint ending in /v1 (for example https://api.moonshot.ai/anthropic/v1)."
        ) from exc


def _stream_error(route: str, event: Mapping[str, Any]) -> KimiAPIError:
    error = event.get("error")
    kind = error.get("type") if isinstance(error, Mapping) else None
    return api_error(route, _STREAM_ERROR_STATUS.get(str(kind)), event)


def _read_stream(
    response: httpx2.Response, route: str, started: float
) -> tuple[ParsedMessage, list[Any], float | None]:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        text = response.read().decode("utf-8", "replace")
        raise KimiProtocolError(
            f"route {route!r} responded to a stream request with content-type {content_type!r} "
            f"instead of text/event-stream: {text[:200]!r}"
        )
    accumulator = AnthropicStreamAccumulator(route)
    events: list[Any] = []
    first_token: float | None = None
    for payload in sse_payloads(response.iter_lines()):
        event = _decode(payload, route, "a stream event")
        events.append(event)
        if isinstance(event, Mapping) and event.get("type") == "error":
            raise _stream_error(route, event)
        if accumulator.add(event) and first_token is None:
            first_token = time.perf_counter() - started
        if accumulator.done:
            break
    if not events:
        raise KimiProtocolError(f"route {route!r} sent an empty Messages API event stream.")
    if not accumulator.done:
        raise _TruncatedStream(
            f"route {route!r} closed the stream after {len(events)} events without message_stop"
        )
    return accumulator.result(), events, first_token


def _send_once(client: KimiClient, body: Mapping[str, Any]) -> _Exchange:
    route = client.route.name
    stream = bool(body.get("stream"))
    started = time.perf_counter()
    with client._http.stream(
        "POST",
        messages_url(client.route.base_url),
        json=dict(body),
        headers=request_headers(client),
    ) as response:
        headers = {key.lower(): value for key, value in response.headers.items()}
        if response.status_code >= 400:
            text = response.read().decode("utf-8", "replace")
            try:
                error_body: Any = json.loads(text)
            except json.JSONDecodeError:
                error_body = text
            raise _HTTPFailure(api_error(route, response.status_code, error_body), headers)
        if stream:
            message, events, first_token = _read_stream(response, route, started)
            return _Exchange(
                response.status_code,
                headers,
                message,
                events,
                True,
                first_token,
                time.perf_counter() - started,
            )
        parsed = _decode(response.read().decode("utf-8", "replace"), route, "a response body")
        return _Exchange(
            response.status_code,
            headers,
            parse_message(parsed, route=route),
            parsed,
            False,
            None,
            time.perf_counter() - started,
        )


class _HTTPFailure(Exception):
    def __init__(self, error: KimiAPIError, headers: Mapping[str, str]) -> None:
        super().__init__(str(error))
        self.error = error
        self.headers = headers


def _send_with_retries(client: KimiClient, body: Mapping[str, Any]) -> _Exchange:
    route = client.route.name

    def classify(exc: Exception) -> Failure | None:
        if isinstance(exc, _HTTPFailure):
            return Failure(
                exc.error,
                retryable=exc.error.status_code in _RETRYABLE,
                retry_after=parse_retry_after(exc.headers),
            )
        if isinstance(exc, KimiAPIError):
            return Failure(exc, retryable=exc.status_code in _RETRYABLE)
        if isinstance(exc, httpx2.TimeoutException):
            return Failure(timeout_error(route, exc), retryable=True)
        if isinstance(exc, httpx2.ConnectError):
            return Failure(connect_error(route, client.route.base_url, exc), retryable=True)
        if isinstance(exc, _TruncatedStream | httpx2.TransportError):
            return Failure(broken_stream_error(route, exc), retryable=True)
        return None

    exchange, attempts = retry_loop(route, client.retry, lambda: _send_once(client, body), classify)
    exchange.attempts = attempts
    return exchange


def send_anthropic(client: KimiClient, body: Mapping[str, Any]) -> Reply:
    """POST `body` to the route's Messages endpoint and return the `Reply`.

    Transient faults (connection errors, timeouts, a stream cut before
    `message_stop`, HTTP 408/409/429/5xx and 529) are retried with
    `client.retry`, honouring `retry-after`.

    Raises:
        HistoryProtocolError: a 400 because a tool-use turn was sent back
            without its thinking block.
        KimiAPIError: any other error response (an Anthropic-style
            `{"type": "error", "error": {...}}` body or a chat-style one).
        KimiTransportError: the route stayed unreachable.
        KimiProtocolError: the body is not a Messages API message or stream.
    """
    exchange = _send_with_retries(client, body)
    message = exchange.message
    reasoning = message.reasoning
    return Reply(
        content=message.content,
        reasoning=reasoning,
        reasoning_field="thinking" if reasoning is not None else None,
        tool_calls=message.tool_calls,
        finish_reason=message.finish_reason,
        usage=message.usage,
        timings=Timings.measure(
            total_s=exchange.total_s,
            time_to_first_token_s=exchange.time_to_first_token_s,
            completion_tokens=message.usage.completion_tokens,
            attempts=exchange.attempts,
        ),
        route=client.route.name,
        mode=client.mode,
        model=str(body.get("model", client.route.model)),
        flavor=client.route.flavor,
        streamed=exchange.streamed,
        request=dict(body),
        response=exchange.response,
        status_code=exchange.status_code,
        id=message.id,
        emulated=exchange.headers.get(EMULATOR_HEADER) == "1" or client.route.is_emulator,
        protocol="anthropic",
        extra_content_blocks=[dict(block) for block in message.blocks],
    )

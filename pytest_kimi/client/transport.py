"""Send one chat-completions request through the openai SDK, with retries.

The SDK's own retries are switched off (`max_retries=0`) so that one loop
covers every retryable fault, including a connection dropped in the middle
of a stream, which the SDK does not retry.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
import openai

from pytest_kimi.errors import (
    HistoryProtocolError,
    KimiAPIError,
    KimiError,
    KimiProtocolError,
    KimiTransportError,
    RequestRejectedError,
)

__all__ = ["RawExchange", "RetryPolicy", "send_chat", "sse_payloads"]

logger = logging.getLogger("pytest_kimi")

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})

# 400 messages that point at the request the harness built, not at the model.
_HISTORY_MARKERS = ("reasoning_content is missing", "requires reasoning_content")
_REJECTED_MARKERS = (
    "invalid temperature",
    "invalid top_p",
    "invalid n",
    "invalid presence_penalty",
    "invalid frequency_penalty",
    "incompatible with thinking enabled",
    "cannot specify both",
    "exceeded model token limit",
    "input token length too long",
    "maximum context length",
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter, honouring `Retry-After`."""

    max_retries: int = 2
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the seconds to wait before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff_s)
        base = self.backoff_s * 2.0 ** (attempt - 1)
        return float(min(base * (0.5 + random.random() / 2), self.max_backoff_s))


@dataclass
class RawExchange:
    """The status, headers and body or events of one call, kept for debugging."""

    status_code: int
    headers: dict[str, str]
    body: Any
    events: list[str] | None
    time_to_first_token_s: float | None
    total_s: float
    attempts: int


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Read `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(float(parsed.timestamp()) - time.time(), 0.0)


def sse_payloads(lines: Iterator[str]) -> Iterator[str]:
    """Yield the `data` of each server-sent event, joining multi-line data."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _envelope(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            message = error.get("message")
            kind = error.get("type")
            return (str(kind) if kind else None), (str(message) if message else None)
    return None, None


def api_error(route: str, status: int | None, body: Any) -> KimiAPIError:
    """Build the error for an HTTP error response, classified by its message."""
    error_type, error_message = _envelope(body)
    text = error_message or (str(body)[:300] if body else "no body")
    message = f"route {route!r} returned HTTP {status}"
    message += f" {error_type}: {text}" if error_type else f": {text}"
    lowered = text.lower()
    cls: type[KimiAPIError] = KimiAPIError
    if status == 400 and any(marker in lowered for marker in _HISTORY_MARKERS):
        cls = HistoryProtocolError
        message += (
            ". This is a harness/protocol error: an earlier assistant turn was sent back "
            "without its reasoning; use kimi.conversation(), which keeps it."
        )
    elif status == 400 and any(marker in lowered for marker in _REJECTED_MARKERS):
        cls = RequestRejectedError
        message += (
            ". The request the test built breaks the route's contract; this is not a model failure."
        )
    elif status == 401:
        message += (
            ". Check the API key variable of this route; keys from platform.kimi.ai and "
            "platform.kimi.com are not interchangeable."
        )
    return cls(
        message,
        status_code=status,
        error_type=error_type,
        error_message=error_message,
        route=route,
        body=body,
    )


def _decode_json(text: str, route: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KimiProtocolError(
            f"route {route!r} sent {what} that is not valid JSON ({exc.msg} at position "
            f"{exc.pos}): {text[:200]!r}. Check that the base URL points at an "
            "OpenAI-compatible /v1 endpoint."
        ) from exc


def _read_stream(
    response: Any, route: str, started: float, on_event: Callable[[Any], bool]
) -> tuple[list[str], float | None]:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        text = response.read().decode("utf-8", "replace")
        raise KimiProtocolError(
            f"route {route!r} responded to a stream request with content-type {content_type!r} "
            f"instead of text/event-stream: {text[:200]!r}"
        )
    events: list[str] = []
    first_token: float | None = None
    done = False
    for payload in sse_payloads(response.iter_lines()):
        events.append(payload)
        if payload.strip() == "[DONE]":
            done = True
            break
        chunk = _decode_json(payload, route, "a stream chunk")
        if isinstance(chunk, Mapping) and "error" in chunk and "choices" not in chunk:
            raise api_error(route, response.status_code, chunk)
        if on_event(chunk) and first_token is None:
            first_token = time.perf_counter() - started
    if not events:
        raise KimiProtocolError(
            f"route {route!r} sent an empty event stream: no data events and no [DONE]."
        )
    if not done:
        raise _TruncatedStream(
            f"route {route!r} closed the stream after {len(events)} events without [DONE]"
        )
    return events, first_token


class _TruncatedStream(KimiProtocolError):
    """The stream ended before `[DONE]`; retried like a dropped connection."""


def _send_once(
    client: openai.OpenAI,
    body: Mapping[str, Any],
    route: str,
    on_event: Callable[[Any], bool],
) -> RawExchange:
    started = time.perf_counter()
    fields = {key: value for key, value in body.items() if key not in ("model", "messages")}
    stream = bool(fields.pop("stream", False))
    with client.chat.completions.with_streaming_response.create(
        model=body["model"],
        messages=body["messages"],
        stream=stream,
        extra_body=fields,
    ) as response:
        headers = {key.lower(): value for key, value in response.headers.items()}
        if stream:
            events, first_token = _read_stream(response, route, started, on_event)
            return RawExchange(
                status_code=response.status_code,
                headers=headers,
                body=None,
                events=events,
                time_to_first_token_s=first_token,
                total_s=time.perf_counter() - started,
                attempts=1,
            )
        text = response.read().decode("utf-8", "replace")
        parsed = _decode_json(text, route, "a response body")
        return RawExchange(
            status_code=response.status_code,
            headers=headers,
            body=parsed,
            events=None,
            time_to_first_token_s=None,
            total_s=time.perf_counter() - started,
            attempts=1,
        )


def send_chat(
    client: openai.OpenAI,
    body: Mapping[str, Any],
    *,
    route: str,
    retry: RetryPolicy,
    on_event: Callable[[Any], bool] | None = None,
    on_retry: Callable[[], None] | None = None,
) -> RawExchange:
    """Send `body` and return the exchange, retrying transient faults.

    `on_event` receives each parsed stream chunk and returns whether it
    carried a token; `on_retry` is called before each retry so the caller can
    reset its stream state.

    Raises:
        KimiAPIError: an HTTP error that is not retryable, or still failing
            after the last retry.
        KimiTransportError: the connection failed or timed out every time.
        KimiProtocolError: the body is not JSON or not SSE.
    """
    callback = on_event or (lambda chunk: False)
    base_url = str(client.base_url)

    def classify(exc: Exception) -> Failure | None:
        return _classify_openai(exc, route, base_url)

    exchange, attempts = retry_loop(
        route, retry, lambda: _send_once(client, body, route, callback), classify, on_retry
    )
    exchange.attempts = attempts
    return exchange


def _classify_openai(exc: Exception, route: str, base_url: str) -> Failure | None:
    if isinstance(exc, openai.APIStatusError):
        error_body = exc.body
        if isinstance(error_body, Mapping) and "error" not in error_body:
            error_body = {"error": error_body}
        return Failure(
            api_error(route, exc.status_code, error_body),
            retryable=exc.status_code in RETRYABLE_STATUS,
            retry_after=parse_retry_after(exc.response.headers),
        )
    if isinstance(exc, openai.APITimeoutError):
        return Failure(timeout_error(route, exc), retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        if isinstance(exc.__cause__, KimiError):
            # Raised by a transport wrapper (a budget, a cassette miss): not a network fault.
            return Failure(exc.__cause__, retryable=False)
        return Failure(connect_error(route, base_url, exc.__cause__ or exc), retryable=True)
    if isinstance(exc, _TruncatedStream | httpx2.TransportError):
        return Failure(broken_stream_error(route, exc), retryable=True)
    return None


@dataclass
class Failure:
    """The error for one failed attempt, and whether another attempt may succeed."""

    error: Exception
    retryable: bool
    retry_after: float | None = None


def timeout_error(route: str, exc: Exception) -> KimiTransportError:
    """Build the error for a request that timed out."""
    return KimiTransportError(
        f"request to route {route!r} timed out ({exc}); raise timeout_s for the route "
        "or check that the server is up."
    )


def connect_error(route: str, base_url: str, exc: BaseException) -> KimiTransportError:
    """Build the error for a route that refused or dropped the connection."""
    return KimiTransportError(
        f"cannot connect to route {route!r} at {base_url} ({exc}); "
        "check base_url and that the server is running."
    )


def broken_stream_error(route: str, exc: Exception) -> KimiTransportError:
    """Build the error for a stream that ended before its last event."""
    return KimiTransportError(f"stream from route {route!r} broke off: {exc}")


def retry_loop(
    route: str,
    retry: RetryPolicy,
    send_once: Callable[[], T],
    classify: Callable[[Exception], Failure | None],
    on_retry: Callable[[], None] | None = None,
) -> tuple[T, int]:
    """Call `send_once` until it succeeds or `classify` marks the failure final.

    Returns the result and the number of attempts. `classify` maps an
    exception to a `Failure`, or to None for exceptions that must propagate
    unchanged; `on_retry` runs before each retry.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return send_once(), attempt
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
        error = failure.error
        if not failure.retryable or attempt > retry.max_retries:
            if attempt > 1 and error.args:
                error.args = (f"{error.args[0]} (after {attempt} attempts)", *error.args[1:])
            raise error
        delay = retry.delay(attempt, failure.retry_after)
        logger.warning(
            "route %s: attempt %d failed (%s); retrying in %.2fs", route, attempt, error, delay
        )
        if on_retry is not None:
            on_retry()
        time.sleep(delay)

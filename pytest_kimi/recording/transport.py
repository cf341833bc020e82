"""The httpx2 transport that replays recorded exchanges and records new ones.

In replay the inner transport is never called, so no request reaches the
network; a request without a recording raises `CassetteMissError` (the openai
SDK passes it through unchanged because it is not an httpx2 error).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2

from pytest_kimi.recording.cassette import EMPTY_STREAM_MESSAGE, EVENT_STREAM, Interaction
from pytest_kimi.recording.session import CassetteSession, kept_response_headers
from pytest_kimi.recording.sse import encode_event, parse_events

__all__ = ["CassetteTransport", "replay_response"]

# Headers that describe the encoded body; the body handed on is decoded, so they go.
_BODY_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


def _error_record(exc: Exception) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)}


def _transport_error(record: dict[str, Any], request: httpx2.Request) -> httpx2.TransportError:
    cls = getattr(httpx2, str(record.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, httpx2.TransportError)):
        cls = httpx2.ReadError
    return cls(f"{record.get('message', '')} (replayed)", request=request)


class ReplayStream(httpx2.SyncByteStream):
    """Yields one recorded event per chunk, then raises the recorded stream error if any."""

    def __init__(
        self, chunks: list[bytes], error: dict[str, Any] | None, request: httpx2.Request
    ) -> None:
        self._chunks = chunks
        self._error = error
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        if self._error is not None:
            raise _transport_error(self._error, self._request)


def replay_response(interaction: Interaction, request: httpx2.Request) -> httpx2.Response:
    """Build the httpx2 response of a recorded interaction.

    Raises:
        httpx2.TransportError: the recording is of a transport error (timeout,
            dropped connection), which is raised again.
    """
    response = interaction.response or {}
    if "error" in response:
        raise _transport_error(response["error"], request)
    status = int(response["status"])
    headers = dict(response.get("headers") or {})
    if "events" in response:
        chunks = [encode_event(event) for event in response["events"]]
        stream = ReplayStream(chunks, response.get("stream_error"), request)
        return httpx2.Response(status, headers=headers, stream=stream, request=request)
    if "json" in response:
        content = json.dumps(response["json"], ensure_ascii=False).encode("utf-8")
    else:
        content = str(response.get("text", "")).encode("utf-8")
    return httpx2.Response(status, headers=headers, content=content, request=request)


class _RecordingStream(httpx2.SyncByteStream):
    """Passes a live stream through while keeping its bytes, and stores them on close."""

    def __init__(
        self, response: httpx2.Response, finish: Callable[[bytes, dict[str, str] | None], None]
    ) -> None:
        self._response = response
        self._finish = finish
        self._chunks: list[bytes] = []
        self._error: dict[str, str] | None = None
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._response.iter_bytes():
                self._chunks.append(chunk)
                yield chunk
        except httpx2.TransportError as exc:
            self._error = _error_record(exc)
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._response.close()
        finally:
            self._finish(b"".join(self._chunks), self._error)


class CassetteTransport(httpx2.BaseTransport):
    """Replays from a `CassetteSession`, and records through `inner` when the mode allows."""

    def __init__(self, session: CassetteSession, inner: httpx2.BaseTransport | None) -> None:
        self.session = session
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Return the recorded response, or the live one when recording is allowed."""
        described = self.session.describe(request)
        interaction = self.session.take(described)
        if interaction is not None:
            return replay_response(interaction, request)
        if not self.session.record_allowed or self._inner is None:
            raise self.session.miss_error(described)
        return self._record(request, described)

    def _record(self, request: httpx2.Request, described: dict[str, Any]) -> httpx2.Response:
        assert self._inner is not None
        session = self.session
        interaction = session.start_recording(described, request.read())
        try:
            response = self._inner.handle_request(request)
        except httpx2.TransportError as exc:
            session.complete(interaction, {"error": _error_record(exc)})
            raise
        status = response.status_code
        stored_headers = kept_response_headers(response.headers)
        passed_headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _BODY_HEADERS
        ]
        if EVENT_STREAM in response.headers.get("content-type", ""):

            def finish(body: bytes, error: dict[str, str] | None) -> None:
                self._finish_stream(interaction, status, stored_headers, body, error)

            stream = _RecordingStream(response, finish)
            return httpx2.Response(status, headers=passed_headers, stream=stream, request=request)
        try:
            content = response.read()
        except httpx2.TransportError as exc:
            session.complete(interaction, {"error": _error_record(exc)})
            raise
        finally:
            response.close()
        session.complete(interaction, _body_record(status, stored_headers, content))
        return httpx2.Response(status, headers=passed_headers, content=content, request=request)

    def _finish_stream(
        self,
        interaction: Interaction,
        status: int,
        headers: dict[str, str],
        body: bytes,
        error: dict[str, str] | None,
    ) -> None:
        events = parse_events(body.decode("utf-8", "replace"))
        if not events and error is None:
            self.session.discard(
                interaction,
                f"{EMPTY_STREAM_MESSAGE}: the server answered HTTP {status} with a "
                "text/event-stream that has no events; it was not recorded, because an empty "
                "stream cannot be replayed",
            )
            return
        record: dict[str, Any] = {"status": status, "headers": headers, "events": events}
        if error is not None:
            record["stream_error"] = error
        self.session.complete(interaction, record)

    def close(self) -> None:
        """Close the inner transport."""
        if self._inner is not None:
            self._inner.close()


def _body_record(status: int, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    record: dict[str, Any] = {"status": status, "headers": headers}
    text = content.decode("utf-8", "replace")
    if not text:
        record["text"] = ""
        return record
    try:
        record["json"] = json.loads(text)
    except json.JSONDecodeError:
        record["text"] = text
    return record

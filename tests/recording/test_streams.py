"""Event streams: boundaries kept, empty streams rejected (arcships/aimux#102)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import openai
import pytest
from unit_helpers import make_session

from pytest_kimi.recording.cassette import Cassette
from pytest_kimi.recording.errors import CassetteCorruptError, RecordingError
from pytest_kimi.recording.transport import CassetteTransport

STREAM = (
    'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}\n\n'
    'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}\n\n'
    'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,'
    '"total_tokens":12}}\n\n'
    "data: [DONE]\n\n"
)


def _server(body: str) -> httpx2.MockTransport:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=body.encode("utf-8")
        )

    return httpx2.MockTransport(answer)


def _stream_chunks(transport: httpx2.BaseTransport) -> list[object]:
    client = openai.OpenAI(
        api_key="test",
        base_url="https://api.moonshot.ai/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    with client:
        stream = client.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "Hi?"}], stream=True
        )
        return list(stream)


def test_stream_recorded_and_replayed(tmp_path: Path) -> None:
    recorder = make_session(tmp_path, mode="once")
    live = _stream_chunks(CassetteTransport(recorder, _server(STREAM)))
    recorder.finish(passed=True)
    events = json.loads(recorder.context.path.read_text())["interactions"][0]["response"]["events"]
    assert len(events) == 4
    assert events[-1] == {"data": "[DONE]"}

    replayer = make_session(tmp_path, cassette=Cassette.load(recorder.context.path))
    chunks = _stream_chunks(CassetteTransport(replayer, None))
    assert len(chunks) == 3
    assert [chunk.model_dump() for chunk in chunks] == [chunk.model_dump() for chunk in live]  # type: ignore[attr-defined]
    content = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in chunks
        if chunk.choices  # type: ignore[attr-defined]
    )
    assert content == "Hi!"
    assert chunks[-1].usage.total_tokens == 12  # type: ignore[attr-defined]


def test_empty_stream_entry_fails_on_load(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    entry = {
        "request": {"method": "POST", "route": "moonshot", "host": "h", "path": "chat/completions"},
        "response": {"status": 200, "headers": {"content-type": "text/event-stream"}, "text": ""},
    }
    path.write_text(json.dumps({"format": 1, "provenance": {}, "interactions": [entry]}))
    with pytest.raises(CassetteCorruptError, match="empty body for text/event-stream interaction"):
        Cassette.load(path)


def test_empty_stream_is_not_recorded(tmp_path: Path) -> None:
    recorder = make_session(tmp_path, mode="once")
    assert _stream_chunks(CassetteTransport(recorder, _server(""))) == []
    with pytest.raises(RecordingError, match="empty body for text/event-stream interaction"):
        recorder.finish(passed=True)
    assert not recorder.context.path.exists()


def test_broken_stream_replays_its_error(tmp_path: Path) -> None:
    class Breaking(httpx2.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield STREAM.split("\n\n")[0].encode() + b"\n\n"
            raise httpx2.RemoteProtocolError("peer closed connection")

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Breaking()
        )

    recorder = make_session(tmp_path, mode="once")
    with pytest.raises(openai.APIConnectionError):
        _stream_chunks(CassetteTransport(recorder, httpx2.MockTransport(answer)))
    recorder.finish(passed=True)
    replayer = make_session(tmp_path, cassette=Cassette.load(recorder.context.path))
    with pytest.raises(openai.APIConnectionError):
        _stream_chunks(CassetteTransport(replayer, None))

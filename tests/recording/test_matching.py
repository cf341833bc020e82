"""Matching on meaning: type-strict JSON, every answer-changing field, no nearest entry.

The rows follow failures reported against other recorders: requests matched on
raw bytes or with loose equality (php-vcr/php-vcr#506,
mampfes/hacs_waste_collection_schedule#7102, promptfoo/promptfoo#7467).
"""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from PIL import Image
from unit_helpers import KIMI, VLLM, chat_request, make_session, recorded_cassette, replay_transport

from pytest_kimi.recording.errors import CassetteMissError
from pytest_kimi.recording.matching import differences

RECORDED: dict[str, Any] = {
    "model": "kimi-k2.6",
    "temperature": 1.0,
    "thinking": {"type": "enabled"},
    "messages": [{"role": "user", "content": "Q1"}],
    "n": 1,
}
ANSWER = {"id": "c1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "A"}}]}


def _changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(RECORDED)
    holder: Any = body
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return body


def _send(tmp_path: Path, request: httpx2.Request) -> httpx2.Response:
    session = make_session(tmp_path, cassette=recorded_cassette(tmp_path, RECORDED, ANSWER))
    transport, inner = replay_transport(session)
    try:
        return transport.handle_request(request)
    finally:
        assert inner.calls == []


def test_reordered_pretty_body_matches(tmp_path: Path) -> None:
    reordered = dict(reversed(list(RECORDED.items())))
    raw = json.dumps(reordered, indent=4).encode("utf-8")
    response = _send(tmp_path, chat_request(None, raw=raw))
    assert response.json() == ANSWER


@pytest.mark.parametrize(
    ("body", "route", "path"),
    [
        (_changed(("messages", 0, "content"), "Q1 "), KIMI, "$.json.messages[0].content"),
        (_changed(("temperature",), 0.6), KIMI, "$.json.temperature"),
        (_changed(("thinking", "type"), "disabled"), KIMI, "$.json.thinking.type"),
        (RECORDED, VLLM, "$.host"),
        (_changed(("n",), "1"), KIMI, "$.json.n"),
        (_changed(("n",), 1.0), KIMI, "$.json.n"),
        (_changed(("n",), True), KIMI, "$.json.n"),
    ],
    ids=[
        "content-space",
        "temperature",
        "thinking-off",
        "other-host",
        "n-str",
        "n-float",
        "n-bool",
    ],
)
def test_changed_field_misses(tmp_path: Path, body: Any, route: Any, path: str) -> None:
    with pytest.raises(CassetteMissError) as caught:
        _send(tmp_path, chat_request(body, route))
    message = str(caught.value)
    assert path in message
    assert "record mode: none" in message
    assert "test_unit.py::test_case[moonshot-thinking]" in message
    assert str(make_session(tmp_path).context.path) in message
    assert "--kimi-record-mode new_episodes" in message


def _png_data_url(flip_byte: bool = False) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    if flip_byte:
        data[-20] ^= 0x01
    return "data:image/png;base64," + base64.b64encode(bytes(data)).decode("ascii")


def _image_body(url: str) -> dict[str, Any]:
    parts = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "Q1"}]
    return {"model": "kimi-k2.6", "messages": [{"role": "user", "content": parts}]}


def test_image_one_byte_differs_misses(tmp_path: Path) -> None:
    original = _image_body(_png_data_url())
    cassette = recorded_cassette(tmp_path, original, ANSWER)
    session = make_session(tmp_path, cassette=cassette)
    transport, inner = replay_transport(session)
    assert transport.handle_request(chat_request(original)).json() == ANSWER
    with pytest.raises(CassetteMissError) as caught:
        transport.handle_request(chat_request(_image_body(_png_data_url(flip_byte=True))))
    assert "$.json.messages[0].content[0].image_url.url" in str(caught.value)
    assert inner.calls == []


def test_played_entry_is_not_reused(tmp_path: Path) -> None:
    session = make_session(tmp_path, cassette=recorded_cassette(tmp_path, RECORDED, ANSWER))
    transport, inner = replay_transport(session)
    transport.handle_request(chat_request(RECORDED))
    with pytest.raises(CassetteMissError, match="already played"):
        transport.handle_request(chat_request(RECORDED))
    assert inner.calls == []


def test_missing_cassette_suggests_once(tmp_path: Path) -> None:
    transport, inner = replay_transport(make_session(tmp_path))
    with pytest.raises(CassetteMissError) as caught:
        transport.handle_request(chat_request(RECORDED))
    assert "(missing)" in str(caught.value)
    assert "pytest 'test_unit.py::test_case[moonshot-thinking]' --kimi-record-mode once" in str(
        caught.value
    )
    assert inner.calls == []


def test_differences_name_paths() -> None:
    recorded = {"a": [1, 2], "b": {"c": "x"}, "d": 1}
    sent = {"a": [1], "b": {"c": "y"}, "e": 2, "d": 1}
    found = differences(recorded, sent)
    assert "$.a: recorded 2 items, sent 1" in found
    assert '$.b.c: recorded "x" (str), sent "y" (str)' in found
    assert "$.d: recorded 1 (int), not sent" not in found
    assert "$.e: not recorded, sent 2 (int)" in found

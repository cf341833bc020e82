"""Split a server-sent event stream into events and write events back as bytes.

An event is stored as a dict: `json` (the parsed `data`) or `data` (text that is not
JSON, such as `[DONE]`), plus `event`, `id`, `retry` or `comment` when the server sent
them. Event boundaries are kept exactly, so replay yields the same events in the
same order.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["encode_event", "parse_events"]

_FIELDS = ("event", "id", "retry")


def _block_event(lines: list[str]) -> dict[str, Any] | None:
    event: dict[str, Any] = {}
    data: list[str] = []
    comments: list[str] = []
    for line in lines:
        if line.startswith(":"):
            comments.append(line[1:].removeprefix(" "))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in _FIELDS:
            event[name] = value
    if comments:
        event["comment"] = "\n".join(comments)
    if data:
        text = "\n".join(data)
        try:
            event["json"] = json.loads(text)
        except json.JSONDecodeError:
            event["data"] = text
    return event or None


def parse_events(text: str) -> list[dict[str, Any]]:
    """Return the events of a stream body; a block without a blank line after it still counts."""
    events: list[dict[str, Any]] = []
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line:
            lines.append(line)
            continue
        if lines:
            event = _block_event(lines)
            if event is not None:
                events.append(event)
            lines = []
    if lines:
        event = _block_event(lines)
        if event is not None:
            events.append(event)
    return events


def encode_event(event: dict[str, Any]) -> bytes:
    """Return the wire bytes of one stored event, ending with the blank line."""
    lines: list[str] = []
    if "comment" in event:
        lines.extend(f": {line}" for line in str(event["comment"]).split("\n"))
    for name in _FIELDS:
        if name in event:
            lines.append(f"{name}: {event[name]}")
    if "json" in event:
        text = json.dumps(event["json"], ensure_ascii=False, separators=(",", ":"))
        lines.append(f"data: {text}")
    elif "data" in event:
        lines.extend(f"data: {line}" for line in str(event["data"]).split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")

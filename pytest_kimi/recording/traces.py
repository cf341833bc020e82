"""Reasoning trace policies: what a cassette keeps of the model's reasoning.

- `store` keeps the reasoning text.
- `redact` replaces it with `[reasoning redacted: N chars, sha256 H]`, padded with
  dots to the original length when the original is longer than that label.
- `drop` replaces it with `[reasoning dropped]`.

Replay returns the stored text, so code that only checks that reasoning exists
(such as the thinking-mode health check) still passes under `redact` and `drop`.
The policy applies to responses and to the reasoning that a multi-turn request
sends back in its history, so the next turn still matches on replay. In a stream,
the placeholder is cut into pieces of the original fragment lengths (`redact`)
or sent whole in the first fragment (`drop`), so the event count does not change.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["TRACE_POLICIES", "apply_trace_policy", "placeholder"]

TRACE_POLICIES = ("store", "redact", "drop")

_REASONING_KEYS = ("reasoning_content", "reasoning")
_THINKING_TYPES = ("thinking", "thinking_delta")
_DROPPED = "[reasoning dropped]"
_PLACEHOLDER = re.compile(r"\[reasoning (?:redacted: \d+ chars, sha256 [0-9a-f]{16}|dropped)\]")

# A reasoning fragment: the dict that contains it and the key, so it can be replaced in place.
_Slot = tuple[dict[str, Any], str]


def placeholder(text: str, policy: str) -> str:
    """Return the stored form of one whole reasoning text under `policy`."""
    if policy == "store" or not text.strip() or _PLACEHOLDER.match(text):
        return text
    if policy == "drop":
        return _DROPPED
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    label = f"[reasoning redacted: {len(text)} chars, sha256 {digest}]"
    return label + "." * (len(text) - len(label))


def _slots(value: Any) -> Iterator[_Slot]:
    if isinstance(value, list):
        for item in value:
            yield from _slots(item)
    elif isinstance(value, dict):
        for key in _REASONING_KEYS:
            if isinstance(value.get(key), str):
                yield value, key
        if value.get("type") in _THINKING_TYPES and isinstance(value.get("thinking"), str):
            yield value, "thinking"
        for item in value.values():
            if isinstance(item, (dict, list)):
                yield from _slots(item)


def apply_trace_policy(value: Any, policy: str) -> Any:
    """Apply `policy` in place to each reasoning text of a request or response body."""
    if policy != "store":
        for holder, key in _slots(value):
            holder[key] = placeholder(holder[key], policy)
    return value


def _stream_slots(events: list[dict[str, Any]]) -> dict[tuple[int, str], list[_Slot]]:
    groups: dict[tuple[int, str], list[_Slot]] = {}
    for event in events:
        payload = event.get("json")
        if not isinstance(payload, dict):
            continue
        choices = payload.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict) and isinstance(choice.get("delta"), dict):
                    index = choice.get("index", 0)
                    for slot in _slots(choice["delta"]):
                        groups.setdefault((int(index), slot[1]), []).append(slot)
        else:
            # Anthropic streams: thinking deltas of one content block share an index.
            index = payload.get("index", 0)
            for slot in _slots(payload):
                groups.setdefault((int(index), slot[1]), []).append(slot)
    return groups


def apply_stream_trace_policy(events: list[dict[str, Any]], policy: str) -> None:
    """Apply `policy` in place to the reasoning deltas of a recorded event stream."""
    if policy == "store":
        return
    for slots in _stream_slots(events).values():
        pieces = [holder[key] for holder, key in slots]
        text = placeholder("".join(pieces), policy)
        if policy == "drop":
            lengths = [len(text)] + [0] * (len(pieces) - 1)
        else:
            lengths = [len(piece) for piece in pieces]
            lengths[-1] += len(text) - sum(lengths)
        start = 0
        for (holder, key), length in zip(slots, lengths, strict=True):
            holder[key] = text[start : start + length]
            start += length

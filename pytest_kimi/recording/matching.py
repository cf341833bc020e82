"""Compare requests by meaning: parsed JSON, type-strict, with readable differences.

Two requests match when their canonical JSON texts are equal. `json.dumps` writes
`1`, `1.0`, `true` and `"1"` differently, so the comparison is type-strict even
though Python's `1 == 1.0 == True`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical", "differences", "render_value"]

MAX_DIFFERENCES = 20


def canonical(value: Any) -> str:
    """Return the canonical JSON text of `value`: keys sorted, no spaces, types kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def render_value(value: Any, limit: int = 80) -> str:
    """Return a short JSON rendering of `value` with its type, for messages."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def differences(recorded: Any, sent: Any, path: str = "$") -> list[str]:
    """Return one line per JSON path where `sent` differs from `recorded` (at most 20)."""
    found: list[str] = []
    _collect(recorded, sent, path, found)
    return found[:MAX_DIFFERENCES]


def _collect(recorded: Any, sent: Any, path: str, found: list[str]) -> None:
    if len(found) >= MAX_DIFFERENCES:
        return
    if type(recorded) is not type(sent):
        found.append(f"{path}: recorded {render_value(recorded)}, sent {render_value(sent)}")
    elif isinstance(recorded, dict):
        for key in sorted(set(recorded) | set(sent)):
            where = _child(path, key)
            if key not in sent:
                found.append(f"{where}: recorded {render_value(recorded[key])}, not sent")
            elif key not in recorded:
                found.append(f"{where}: not recorded, sent {render_value(sent[key])}")
            else:
                _collect(recorded[key], sent[key], where, found)
    elif isinstance(recorded, list):
        for index, (left, right) in enumerate(zip(recorded, sent, strict=False)):
            _collect(left, right, _child(path, index), found)
        if len(recorded) != len(sent):
            found.append(f"{path}: recorded {len(recorded)} items, sent {len(sent)}")
    elif recorded != sent:
        found.append(f"{path}: recorded {render_value(recorded)}, sent {render_value(sent)}")

"""Masking of values that change on every call (ids, timestamps) before a snapshot is stored.

A mask path is a dotted string. `*` matches any one key or list index and `**`
matches any number of levels, so `choices.*.message.tool_calls.*.id` covers every
tool call of every choice without naming list positions (see
syrupy-project/syrupy#423 for why a wildcard over list indexes is needed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["DEFAULT_MASK_PATHS", "mask_volatile", "placeholder"]

DEFAULT_MASK_PATHS: tuple[str, ...] = (
    "id",
    "created",
    "system_fingerprint",
    "**.created_at",
    "**.timestamp",
    "choices.*.message.tool_calls.*.id",
    "choices.*.delta.tool_calls.*.id",
    "content.*.id",
)


def placeholder(value: Any) -> str:
    """Return the placeholder stored in place of a masked value, such as `<str>` or `<int>`."""
    return f"<{type(value).__name__}>"


def mask_volatile(data: Any, paths: Iterable[str] = DEFAULT_MASK_PATHS) -> Any:
    """Return a copy of `data` with every value under a mask path replaced by a placeholder.

    A list at the top level, such as the parsed events of a stream, is masked
    element by element with the same paths. `data` itself is not changed.

    Args:
        data: Parsed JSON: dicts, lists and scalars.
        paths: Dotted mask paths; `*` matches one level and `**` any number of levels.

    Returns:
        The masked copy.
    """
    patterns = [tuple(path.split(".")) for path in paths]
    if isinstance(data, list):
        return [_mask(item, patterns) for item in data]
    return _mask(data, patterns)


def _mask(data: Any, patterns: list[tuple[str, ...]]) -> Any:
    if isinstance(data, dict):
        return {key: _mask_child(key, value, patterns) for key, value in data.items()}
    if isinstance(data, list):
        return [_mask_child(str(index), value, patterns) for index, value in enumerate(data)]
    return data


def _mask_child(key: str, value: Any, patterns: list[tuple[str, ...]]) -> Any:
    remaining = _advance(patterns, key)
    if () in remaining and value is not None:
        return placeholder(value)
    return _mask(value, [pattern for pattern in remaining if pattern])


def _advance(patterns: Sequence[tuple[str, ...]], key: str) -> list[tuple[str, ...]]:
    """Return the rest of each pattern after it consumes `key`; `()` means a full match."""
    result: list[tuple[str, ...]] = []
    for pattern in patterns:
        if not pattern:
            continue
        head, rest = pattern[0], pattern[1:]
        if head == "**":
            # `**` may match zero levels (try the rest here) or this level (keep it).
            result.append(pattern)
            result.extend(_advance([rest], key))
        elif head in ("*", key):
            result.append(rest)
    return result

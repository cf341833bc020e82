"""Find and replace API keys in headers, JSON bodies, URLs and files.

Redaction runs on every cassette write; the end-of-session scan runs over
cassettes, snapshots and reports and fails the run when a key is still there.
Messages name the variable or the kind of token, never the secret itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_SECRET_HEADERS",
    "KEY_PATTERN",
    "REDACTED",
    "Redactor",
    "SecretLeak",
    "find_leaks",
    "secret_values",
]

REDACTED = "<redacted>"

DEFAULT_SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "proxy-authorization")

# Provider key shapes: OpenAI-style `sk-` (also `sk-proj-`, `sk-ant-`), Stripe-style
# `sk_live_`, Google `AIza`, Hugging Face `hf_`, Groq `gsk_`, xAI `xai-`, GitHub tokens.
# The minimum lengths keep ordinary words such as `sk-learn` out.
KEY_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-[A-Za-z0-9_\-]{16,}"
    r"|sk_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|gsk_[A-Za-z0-9]{20,}"
    r"|xai-[A-Za-z0-9]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{36,}"
    r"|github_pat_[A-Za-z0-9_]{22,}"
    r")"
)

# Query parameters that carry a key in some gateways' URLs.
_SECRET_QUERY_NAMES = frozenset({"key", "api_key", "api-key", "apikey", "token", "access_token"})

# Shorter values are too likely to occur by chance in a body, so they are not scanned for.
MIN_SECRET_LENGTH = 8

DEFAULT_KEY_VARIABLES = ("KIMI_API_KEY", "MOONSHOT_API_KEY")


def secret_values(variables: Iterable[str]) -> dict[str, str]:
    """Return `{variable: value}` for each set variable whose value is long enough to scan for."""
    values: dict[str, str] = {}
    for name in dict.fromkeys([*DEFAULT_KEY_VARIABLES, *variables]):
        value = os.environ.get(name, "")
        if len(value) >= MIN_SECRET_LENGTH:
            values[name] = value
    return values


@dataclass(frozen=True)
class Redactor:
    """Replaces secret headers, key-shaped tokens and known key values with `REDACTED`."""

    header_names: frozenset[str] = frozenset(DEFAULT_SECRET_HEADERS)
    values: tuple[str, ...] = ()
    _value_pattern: re.Pattern[str] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, header_names: Iterable[str], values: Iterable[str]) -> Redactor:
        """Build a redactor for these header names (any case) and literal secret values."""
        unique = tuple(sorted(set(values), key=len, reverse=True))
        # Case-insensitive: a model or the emulator may echo a key in another case.
        pattern = (
            re.compile("|".join(re.escape(v) for v in unique), re.IGNORECASE) if unique else None
        )
        names = frozenset(name.lower() for name in (*DEFAULT_SECRET_HEADERS, *header_names))
        return cls(header_names=names, values=unique, _value_pattern=pattern)

    def needs_redaction(self, text: str) -> bool:
        """Return whether `text` contains a key-shaped token or a known secret value."""
        if KEY_PATTERN.search(text):
            return True
        return self._value_pattern is not None and self._value_pattern.search(text) is not None

    def text(self, text: str) -> str:
        """Return `text` with every known secret value and key-shaped token replaced."""
        if self._value_pattern is not None:
            text = self._value_pattern.sub(REDACTED, text)
        return KEY_PATTERN.sub(REDACTED, text)

    def json(self, value: Any) -> Any:
        """Return a copy of a JSON value with secrets replaced in every string."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value

    def events(self, events: list[Any]) -> list[Any]:
        """Return recorded stream events with secrets replaced, also across chunk boundaries.

        A key can arrive split over several deltas, where no single chunk contains
        it. When the joined text of one streamed field needs redaction, the redacted
        text goes into that field's first chunk and the later chunks become empty.
        """
        redacted: list[Any] = self.json(events)
        for slots in stream_text_slots(redacted):
            joined = "".join(holder[key] for holder, key in slots)
            if not self.needs_redaction(joined):
                continue
            slots[0][0][slots[0][1]] = self.text(joined)
            for holder, key in slots[1:]:
                holder[key] = ""
        return redacted

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return `headers` with secret headers replaced whole and other values scrubbed."""
        return {
            name: REDACTED if name.lower() in self.header_names else self.text(value)
            for name, value in headers.items()
        }

    def query(self, query: str) -> str:
        """Return a URL query string with key parameters and key-shaped values replaced."""
        if not query:
            return query
        parts = []
        for pair in query.split("&"):
            name, sep, value = pair.partition("=")
            if sep and name.lower() in _SECRET_QUERY_NAMES:
                value = REDACTED
            parts.append(f"{name}{sep}{self.text(value)}")
        return "&".join(parts)


_Slot = tuple[dict[str, Any], str]


def _string_slots(
    value: Any, path: tuple[Any, ...], out: dict[tuple[Any, ...], list[_Slot]]
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and key not in ("id", "object", "model", "type", "role"):
                out.setdefault((*path, key), []).append((value, key))
            else:
                _string_slots(item, (*path, key), out)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _string_slots(item, (*path, position), out)


def stream_text_slots(events: list[Any]) -> list[list[_Slot]]:
    """Group the string fields of stream events by their path, in arrival order.

    Each group is one streamed field (for example `choices.0.delta.content`) whose
    chunks join into the text a client sees.
    """
    groups: dict[tuple[Any, ...], list[_Slot]] = {}
    for event in events:
        payload = event.get("json") if isinstance(event, dict) else None
        _string_slots(payload, (), groups)
    return [slots for slots in groups.values() if len(slots) > 1]


def joined_stream_texts(events: list[Any]) -> list[str]:
    """Return the joined text of every streamed field (see `stream_text_slots`)."""
    return ["".join(holder[key] for holder, key in slots) for slots in stream_text_slots(events)]


@dataclass(frozen=True)
class SecretLeak:
    """One secret found in a file: what kind and on which line (never the value)."""

    what: str
    line: int


def find_leaks(text: str, values: Mapping[str, str]) -> list[SecretLeak]:
    """Return the configured key values and key-shaped tokens found in `text`."""
    leaks: list[SecretLeak] = []
    lowered = text.lower()
    for name, value in values.items():
        position = lowered.find(value.lower())
        if position >= 0:
            leaks.append(SecretLeak(f"the value of ${name}", text.count("\n", 0, position) + 1))
    for match in KEY_PATTERN.finditer(text):
        prefix = match.group(0)[:4]
        line = text.count("\n", 0, match.start()) + 1
        leaks.append(SecretLeak(f"a provider key token starting {prefix!r}", line))
    return leaks

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
        pattern = re.compile("|".join(re.escape(v) for v in unique)) if unique else None
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


@dataclass(frozen=True)
class SecretLeak:
    """One secret found in a file: what kind and on which line (never the value)."""

    what: str
    line: int


def find_leaks(text: str, values: Mapping[str, str]) -> list[SecretLeak]:
    """Return the configured key values and key-shaped tokens found in `text`."""
    leaks: list[SecretLeak] = []
    for name, value in values.items():
        position = text.find(value)
        if position >= 0:
            leaks.append(SecretLeak(f"the value of ${name}", text.count("\n", 0, position) + 1))
    for match in KEY_PATTERN.finditer(text):
        prefix = match.group(0)[:4]
        line = text.count("\n", 0, match.start()) + 1
        leaks.append(SecretLeak(f"a provider key token starting {prefix!r}", line))
    return leaks

"""Cassettes: one JSON file per test, route and mode, holding recorded HTTP exchanges.

Layout of a cassette file (keys sorted, two-space indent):

    {
      "format": 1,
      "provenance": {"route": ..., "flavor": ..., "host": ..., "model": ..., "mode": ...,
                     "plugin_version": ..., "recorded_at": ..., "emulator": true,
                     "note": "emulator output, not Kimi K2.6 output", ...},
      "interactions": [
        {"recorded_at": ..., "emulator": true,
         "request": {"method": "POST", "route": ..., "host": ..., "path": "chat/completions",
                     "query": "", "headers": {...}, "json": {...}},
         "response": {"status": 200, "headers": {...}, "json": {...}}}
      ]
    }

A response contains `json` (a JSON body), `text` (any other body) or `events` (a
text/event-stream body, one entry per event), and `stream_error` when the
connection broke after some events. An exchange that failed before any response
holds `error` in place of `status`. The request and response are stored
generically (method, path, JSON), so OpenAI chat completions and Anthropic
Messages exchanges fit the same format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from pytest_kimi.recording.errors import CassetteCorruptError
from pytest_kimi.recording.matching import canonical

__all__ = ["CASSETTE_SCHEMA", "FORMAT_VERSION", "Cassette", "Interaction", "match_key"]

FORMAT_VERSION = 1
EVENT_STREAM = "text/event-stream"
EMPTY_STREAM_MESSAGE = "empty body for text/event-stream interaction"

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "message"],
    "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
}

CASSETTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "provenance", "interactions"],
    "properties": {
        "format": {"const": FORMAT_VERSION},
        "provenance": {"type": "object"},
        "interactions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["request", "response"],
                "properties": {
                    "request": {
                        "type": "object",
                        "required": ["method", "route", "host", "path"],
                        "properties": {
                            "method": {"type": "string"},
                            "route": {"type": "string"},
                            "host": {"type": "string"},
                            "path": {"type": "string"},
                            "query": {"type": "string"},
                            "headers": {"type": "object"},
                            "text": {"type": "string"},
                        },
                    },
                    "response": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "integer"},
                            "headers": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                            "text": {"type": "string"},
                            "events": {"type": "array", "items": {"type": "object"}},
                            "error": _ERROR_SCHEMA,
                            "stream_error": _ERROR_SCHEMA,
                        },
                        "oneOf": [{"required": ["status"]}, {"required": ["error"]}],
                    },
                    "recorded_at": {"type": "string"},
                    "emulator": {"type": "boolean"},
                },
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(CASSETTE_SCHEMA)

# Request fields that change the reply. Headers are stored for reading but not matched.
_MATCH_FIELDS = ("method", "route", "host", "path", "query", "json", "text")


def match_key(request: dict[str, Any]) -> dict[str, Any]:
    """Return the part of a stored request that matching compares."""
    return {name: request[name] for name in _MATCH_FIELDS if name in request}


@dataclass
class Interaction:
    """One recorded request and the response (or transport error) it got."""

    request: dict[str, Any]
    response: dict[str, Any] | None = None
    recorded_at: str = ""
    emulator: bool = False

    @property
    def key(self) -> str:
        """The canonical text of the request's match fields."""
        return canonical(match_key(self.request))

    def to_json(self) -> dict[str, Any]:
        """Return the stored form of this interaction."""
        return {
            "recorded_at": self.recorded_at,
            "emulator": self.emulator,
            "request": self.request,
            "response": self.response,
        }


def _is_event_stream(response: dict[str, Any]) -> bool:
    headers = response.get("headers") or {}
    return EVENT_STREAM in str(headers.get("content-type", ""))


def check_replayable(response: dict[str, Any], path: Path, index: int) -> None:
    """Raise when a stored response could only be replayed as an empty reply.

    Raises:
        CassetteCorruptError: a text/event-stream response with no events and no
            stream error, or a response with no body field at all.
    """
    if "error" in response:
        return
    if _is_event_stream(response):
        if (
            not response.get("events")
            and not response.get("text")
            and "stream_error" not in response
        ):
            raise CassetteCorruptError(
                f"{EMPTY_STREAM_MESSAGE} (interaction {index + 1}) in cassette {path}. A "
                "stream without events cannot be replayed; delete the interaction or "
                "re-record the test.",
                path=path,
            )
        return
    if not any(name in response for name in ("json", "text", "events")):
        raise CassetteCorruptError(
            f"interaction {index + 1} in cassette {path} has a response with no body "
            "(no json, text or events); re-record the test.",
            path=path,
        )


@dataclass
class Cassette:
    """A cassette file's content."""

    path: Path
    provenance: dict[str, Any] = field(default_factory=dict)
    interactions: list[Interaction] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        """Read and validate a cassette.

        Raises:
            CassetteCorruptError: the file cannot be read, is not JSON (for example
                truncated by an interrupted run), does not match `CASSETTE_SCHEMA`,
                or contains an interaction that cannot be replayed.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteCorruptError(f"cannot read cassette {path}: {exc}", path=path) from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CassetteCorruptError(
                f"cassette {path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}); it may have been truncated by an interrupted run",
                path=path,
            ) from exc
        error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(document))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "top level"
            raise CassetteCorruptError(
                f"cassette {path} does not match the cassette format at {where}: {error.message}",
                path=path,
            )
        interactions = []
        for index, raw in enumerate(document["interactions"]):
            check_replayable(raw["response"], path, index)
            interactions.append(
                Interaction(
                    request=raw["request"],
                    response=raw["response"],
                    recorded_at=str(raw.get("recorded_at", "")),
                    emulator=bool(raw.get("emulator", False)),
                )
            )
        return cls(path=path, provenance=dict(document["provenance"]), interactions=interactions)

    def dumps(self) -> str:
        """Return the file text: pretty-printed, keys sorted, ending with a newline."""
        document = {
            "format": FORMAT_VERSION,
            "provenance": self.provenance,
            "interactions": [interaction.to_json() for interaction in self.interactions],
        }
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

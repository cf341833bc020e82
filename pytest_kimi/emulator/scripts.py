"""Scripted replies and injected faults for the emulator.

A script says: for a request like this, answer that (or fail like this).
Scripts come from a test (`kimi_emulator.script(...)`) or from a JSON or TOML
file listed in `emulator_scripts` or passed with `--kimi-emulator-script`.
"""

from __future__ import annotations

import json
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from pytest_kimi.errors import KimiConfigError

__all__ = ["Fault", "Script", "ScriptBook", "ScriptedReply", "load_scripts"]

_MATCH_KEYS = {"contains", "regex", "mode", "profile", "last_role", "has_tools", "model"}
_REPLY_KEYS = {"content", "reasoning", "tool_calls", "finish_reason", "usage"}
_FAULT_KEYS = {
    "status",
    "error_type",
    "message",
    "retry_after",
    "drop_connection",
    "slow_first_token_s",
    "truncate_after",
    "malformed_chunk",
    "body",
    "content_type",
    "empty_stream",
}


@dataclass(frozen=True)
class ScriptedReply:
    """What a scripted reply contains; `None` fields fall back to the default answer."""

    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, int] | None = None


@dataclass(frozen=True)
class Fault:
    """A failure to inject instead of (or into) a normal reply."""

    status: int | None = None
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    drop_connection: bool = False
    slow_first_token_s: float = 0.0
    truncate_after: int | None = None
    malformed_chunk: bool = False
    body: str | None = None
    content_type: str | None = None
    empty_stream: bool = False


@dataclass
class Script:
    """One rule: a request matcher plus a reply or a fault, applied `times` times."""

    match: dict[str, Any] = field(default_factory=dict)
    reply: ScriptedReply | None = None
    fault: Fault | None = None
    times: int | None = None
    name: str = ""

    def matches(self, request: Mapping[str, Any]) -> bool:
        """Return whether `request` (a summary built by the server) fits the matcher."""
        text = request["text"]
        checks: list[bool] = []
        if "contains" in self.match:
            needles = self.match["contains"]
            needles = [needles] if isinstance(needles, str) else list(needles)
            checks.append(all(n.lower() in text.lower() for n in needles))
        if "regex" in self.match:
            checks.append(re.search(self.match["regex"], text) is not None)
        for key in ("mode", "profile", "last_role", "model"):
            if key in self.match:
                checks.append(request[key] == self.match[key])
        if "has_tools" in self.match:
            checks.append(request["has_tools"] == bool(self.match["has_tools"]))
        return all(checks)


def _unknown(kind: str, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise KimiConfigError(
            f"unknown {kind} key(s) {', '.join(extra)} in {where}: the keys are "
            f"{', '.join(sorted(allowed))}."
        )


_STRINGS = {"type": "array", "items": {"type": "string"}}
_SCRIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "match": {
            "type": "object",
            "properties": {
                "contains": {"anyOf": [{"type": "string"}, _STRINGS]},
                "regex": {"type": "string"},
                "mode": {"enum": ["thinking", "instant"]},
                "profile": {"type": "string"},
                "last_role": {"enum": ["system", "user", "assistant", "tool"]},
                "has_tools": {"type": "boolean"},
                "model": {"type": "string"},
            },
        },
        "reply": {
            "type": "object",
            "properties": {
                "content": {"type": "string"},
                "reasoning": {"type": "string"},
                "tool_calls": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}, "id": {"type": "string"}},
                    },
                },
                "finish_reason": {"type": "string"},
                "usage": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "fault": {
            "type": "object",
            "properties": {
                "status": {"type": "integer", "minimum": 200, "maximum": 599},
                "error_type": {"type": "string"},
                "message": {"type": "string"},
                "retry_after": {"type": "number", "minimum": 0},
                "drop_connection": {"type": "boolean"},
                "slow_first_token_s": {"type": "number", "minimum": 0},
                "truncate_after": {"type": "integer", "minimum": 0},
                "malformed_chunk": {"type": "boolean"},
                "body": {"type": "string"},
                "content_type": {"type": "string"},
                "empty_stream": {"type": "boolean"},
            },
        },
        "times": {"type": "integer", "minimum": 1},
        "name": {"type": "string"},
    },
}
_SCRIPT_VALIDATOR = jsonschema.Draft202012Validator(_SCRIPT_SCHEMA)


def _check_types(raw: Mapping[str, Any], where: str) -> None:
    problem = next(iter(_SCRIPT_VALIDATOR.iter_errors(dict(raw))), None)
    if problem is not None:
        field = ".".join(str(part) for part in problem.absolute_path) or "script"
        raise KimiConfigError(f"invalid {field} in {where}: {problem.message}.")
    pattern = (raw.get("match") or {}).get("regex")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise KimiConfigError(
                f"invalid match.regex {pattern!r} in {where}: {exc}. Fix the regular expression."
            ) from exc


def script_from_dict(raw: Mapping[str, Any], *, where: str) -> Script:
    """Build a `Script` from its dict form, naming `where` in any error."""
    if not isinstance(raw, Mapping):
        raise KimiConfigError(f"a script in {where} is not a table: {raw!r}")
    _unknown("script", raw, {"match", "reply", "fault", "times", "name"}, where)
    match = dict(raw.get("match", {}))
    _unknown("match", match, _MATCH_KEYS, where)
    reply = None
    if "reply" in raw:
        _unknown("reply", raw["reply"], _REPLY_KEYS, where)
        reply = ScriptedReply(**raw["reply"])
    fault = None
    if "fault" in raw:
        _unknown("fault", raw["fault"], _FAULT_KEYS, where)
        fault = Fault(**raw["fault"])
    if reply is None and fault is None:
        raise KimiConfigError(f"a script in {where} has neither reply nor fault: add one.")
    _check_types(raw, where)
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise KimiConfigError(f"script times must be a positive integer in {where}, got {times!r}")
    return Script(match=match, reply=reply, fault=fault, times=times, name=str(raw.get("name", "")))


def load_scripts(path: Path) -> list[Script]:
    """Load scripts from a JSON or TOML file with a top-level `scripts` list."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KimiConfigError(
            f"cannot read emulator script file {path}: {exc.strerror}. Check the path given "
            "in emulator_scripts or --kimi-emulator-script."
        ) from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KimiConfigError(f"cannot parse emulator script file {path}: {exc}") from exc
    items = data.get("scripts") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise KimiConfigError(
            f"emulator script file {path} has no 'scripts' list at the top level."
        )
    return [script_from_dict(item, where=f"{path} (script {i})") for i, item in enumerate(items)]


class ScriptBook:
    """Thread-safe, ordered list of scripts; the latest added is tried first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[Script] = []

    def add(self, script: Script) -> Script:
        """Add a script ahead of the existing ones."""
        with self._lock:
            self._scripts.insert(0, script)
        return script

    def remove(self, script: Script) -> None:
        """Remove a script if it is still there."""
        with self._lock:
            if script in self._scripts:
                self._scripts.remove(script)

    def take(self, request: Mapping[str, Any]) -> Script | None:
        """Return the first matching script, using up one of its `times`."""
        with self._lock:
            for script in self._scripts:
                if not script.matches(request):
                    continue
                if script.times is not None:
                    script.times -= 1
                    if script.times == 0:
                        self._scripts.remove(script)
                return script
        return None

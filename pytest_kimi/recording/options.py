"""Record settings: the `--kimi-record-*` options and `[tool.pytest_kimi.record]`.

Which record mode a test runs in, from the strongest source to the weakest:
- `--kimi-record-mode` on the command line;
- `mode` in `[tool.pytest_kimi.record]`;
- `record_mode=` on the test's `kimi` marker;
- `none`, so a run never goes live by accident.
`--kimi-trace-policy`, `trace_policy` and the marker's `trace_policy=` follow the
same order, with `store` as the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_kimi.recording.secrets import DEFAULT_SECRET_HEADERS
from pytest_kimi.recording.traces import TRACE_POLICIES

__all__ = [
    "RECORD_MODES",
    "RECORD_MODE_OPTION",
    "RECORD_SCHEMA",
    "TRACE_POLICY_OPTION",
    "RecordSettings",
    "add_recording_options",
    "load_record_settings",
]

RECORD_MODE_OPTION = "--kimi-record-mode"
TRACE_POLICY_OPTION = "--kimi-trace-policy"

# The names pytest-recording and vcrpy use.
RECORD_MODES = ("none", "once", "new_episodes", "all")

RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "mode": {"enum": list(RECORD_MODES)},
        "dir": {"type": "string", "minLength": 1},
        "trace_policy": {"enum": list(TRACE_POLICIES)},
        "redact_headers": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "scan": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
}


def add_recording_options(parser: pytest.Parser) -> None:
    """Register `--kimi-record-mode` and `--kimi-trace-policy` in the `kimi` option group."""
    group = parser.getgroup("kimi", "pytest-kimi")
    group.addoption(
        RECORD_MODE_OPTION,
        action="store",
        dest="kimi_record_mode",
        default=None,
        choices=RECORD_MODES,
        help="Record mode for model calls: none (replay only, the default), once, "
        "new_episodes or all",
    )
    group.addoption(
        TRACE_POLICY_OPTION,
        action="store",
        dest="kimi_trace_policy",
        default=None,
        choices=TRACE_POLICIES,
        help="What cassettes keep of reasoning: store (default), redact or drop",
    )


@dataclass(frozen=True)
class RecordSettings:
    """The validated `[tool.pytest_kimi.record]` table plus the command-line values."""

    cli_mode: str | None = None
    mode: str | None = None
    cli_trace_policy: str | None = None
    trace_policy: str | None = None
    directory: Path | None = None
    redact_headers: tuple[str, ...] = DEFAULT_SECRET_HEADERS
    scan: tuple[Path, ...] = ()
    source: str = "built-in defaults"


def _validate(table: Any, source: str) -> None:
    validator = jsonschema.Draft202012Validator(RECORD_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(table))
    if error is None:
        return
    path = ".".join(str(part) for part in error.absolute_path)
    where = f"tool.pytest_kimi.record.{path}" if path else "tool.pytest_kimi.record"
    value = f" {error.instance!r}" if path else ""
    raise pytest.UsageError(
        f"pytest-kimi: invalid {where}{value} in {source}: {error.message}. "
        f"Record modes are {', '.join(RECORD_MODES)}; trace policies are "
        f"{', '.join(TRACE_POLICIES)}."
    )


def load_record_settings(
    table: Any, *, source: str, root: Path, cli_mode: str | None, cli_trace_policy: str | None
) -> RecordSettings:
    """Validate the record table and combine it with the command-line values.

    Args:
        table: the `record` sub-table of `[tool.pytest_kimi]` (`{}` when absent).
        source: where the table came from, for messages.
        root: the folder relative paths in the table are resolved against.
        cli_mode: the `--kimi-record-mode` value, or None when not given.
        cli_trace_policy: the `--kimi-trace-policy` value, or None when not given.

    Raises:
        pytest.UsageError: the table does not match `RECORD_SCHEMA`; the message
            names the key and the bad value.
    """
    _validate(table, source)
    directory = table.get("dir")
    return RecordSettings(
        cli_mode=cli_mode,
        mode=table.get("mode"),
        cli_trace_policy=cli_trace_policy,
        trace_policy=table.get("trace_policy"),
        directory=(root / directory) if directory else None,
        redact_headers=(*DEFAULT_SECRET_HEADERS, *table.get("redact_headers", ())),
        scan=tuple(root / entry for entry in table.get("scan", ())),
        source=source,
    )


def resolve_setting(
    cli: str | None, project: str | None, marker: Any, default: str
) -> tuple[str, str]:
    """Return the value and its source (`cli`, `pyproject`, `marker` or `default`)."""
    if cli is not None:
        return cli, "cli"
    if project is not None:
        return project, "pyproject"
    if marker is not None:
        return str(marker), "marker"
    return default, "default"

"""The readable record that a snapshot of a model reply stores.

A record is a JSON object with three keys:

- `format`: `pytest-kimi-snapshot/1`.
- `fields`: one entry per compared field, each `{"policy": "<policy>", "value": ...}`.
- `provenance`: route, model, mode, flavor and plugin version of the recording.
  Provenance is stored for review and is never compared, so moving a test to
  another route does not fail its snapshots.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

from pytest_kimi.client.reply import Reply
from pytest_kimi.snapshot.masking import DEFAULT_MASK_PATHS, mask_volatile
from pytest_kimi.snapshot.policies import Policy, PolicySpec

__all__ = [
    "RECORD_FORMAT",
    "ReplySubject",
    "TracePolicy",
    "build_record",
    "plugin_version",
]

RECORD_FORMAT = "pytest-kimi-snapshot/1"

TracePolicy = Literal["omit", "store", "summary"]

# Reasoning length changes from run to run, so it is stored for review but not compared.
_DEFAULT_POLICIES: dict[str, Policy] = {
    "citations": Policy.citations(),
    "content": Policy.exact(),
    "finish_reason": Policy.exact(),
    "json": Policy.json(),
    "pass_rate": Policy.pass_rate(0.0),
    "reasoning": Policy.ignore(),
    "response": Policy.json(),
    "tool_calls": Policy.json(),
}


@dataclass
class ReplySubject:
    """A reply (or raw response dict) plus the options for snapshotting it.

    `policies` maps field names to policies and overrides the defaults.
    `citations` is stored as a `citations` field. `samples` is a list of
    pass/fail results of repeated runs, stored as a `pass_rate` field.
    `extra` adds fields of the caller's own, compared `exact` unless a policy is
    given. `trace_policy` decides how much reasoning text is stored: `summary`
    (its length only), `store` (the text as well) or `omit` (nothing).
    """

    data: Reply | Mapping[str, Any] | Sequence[Any]
    policies: Mapping[str, PolicySpec] = field(default_factory=dict)
    citations: Iterable[str | int] | None = None
    samples: Sequence[bool] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    trace_policy: TracePolicy = "summary"
    mask_paths: Sequence[str] = DEFAULT_MASK_PATHS


@functools.cache
def plugin_version() -> str:
    """Return the installed pytest-kimi version, or `unknown` when it is not installed."""
    try:
        return metadata.version("pytest-kimi")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_record(data: Any) -> dict[str, Any]:
    """Build the snapshot record of a `Reply`, a raw response or a `ReplySubject`.

    Raises:
        TypeError: `data` is none of the supported types.
        ValueError: a policy is unknown or `trace_policy` is invalid.
    """
    subject = data if isinstance(data, ReplySubject) else ReplySubject(data)
    if subject.trace_policy not in ("omit", "store", "summary"):
        raise ValueError(
            f"trace_policy must be 'summary', 'store' or 'omit', got {subject.trace_policy!r}"
        )
    if isinstance(subject.data, Reply):
        values = _reply_values(subject.data, subject.trace_policy)
        provenance = _reply_provenance(subject.data)
    elif isinstance(subject.data, Mapping | list):
        values = {"response": mask_volatile(_plain(subject.data), subject.mask_paths)}
        provenance = _response_provenance(subject.data)
    else:
        raise TypeError(
            f"a Kimi snapshot takes a Reply, a response dict or a list of stream events, "
            f"got {type(subject.data).__name__}; use the default `snapshot` for other values"
        )
    values.update(_subject_values(subject))
    return {
        "fields": _with_policies(values, subject.policies),
        "format": RECORD_FORMAT,
        "provenance": provenance,
    }


def _reply_values(reply: Reply, trace_policy: TracePolicy) -> dict[str, Any]:
    values: dict[str, Any] = {
        "content": reply.content,
        "finish_reason": reply.finish_reason,
        "tool_calls": [
            {"arguments": _parse_or_keep(call.arguments), "name": call.name}
            for call in reply.tool_calls
        ],
    }
    structured = _structured_json(reply.content)
    if structured is not None:
        values["json"] = structured
    if trace_policy != "omit":
        reasoning: dict[str, Any] = {
            "chars": len(reply.reasoning) if reply.reasoning is not None else None,
        }
        if trace_policy == "store":
            reasoning["text"] = reply.reasoning
        values["reasoning"] = reasoning
    return values


def _subject_values(subject: ReplySubject) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if subject.citations is not None:
        values["citations"] = sorted({str(item) for item in subject.citations})
    if subject.samples is not None:
        passed = sum(1 for sample in subject.samples if sample)
        total = len(subject.samples)
        if total == 0:
            raise ValueError("samples is empty; pass at least one pass/fail result")
        values["pass_rate"] = {"passed": passed, "rate": passed / total, "total": total}
    for name, value in subject.extra.items():
        if name in values or name in _DEFAULT_POLICIES:
            raise ValueError(
                f"extra field {name!r} clashes with a built-in snapshot field; rename it"
            )
        values[name] = _plain(value)
    return values


def _with_policies(
    values: Mapping[str, Any], overrides: Mapping[str, PolicySpec]
) -> dict[str, dict[str, Any]]:
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        raise ValueError(
            f"policies name fields that this snapshot does not have: {unknown}; "
            f"fields are {sorted(values)}"
        )
    fields: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        policy = Policy.parse(overrides[name]) if name in overrides else _default_policy(name)
        if name == "content" and "json" in values and name not in overrides:
            # JSON content is compared through the parsed `json` field instead.
            policy = Policy.ignore()
        fields[name] = {"policy": str(policy), "value": value}
    return fields


def _default_policy(name: str) -> Policy:
    return _DEFAULT_POLICIES.get(name, Policy.exact())


def _structured_json(content: str | None) -> Any:
    if not content:
        return None
    try:
        parsed = json.loads(content)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def _parse_or_keep(arguments: str) -> Any:
    try:
        return json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return arguments


def _plain(value: Any) -> Any:
    """Round-trip through JSON so the record contains only JSON types, with a clear error."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"snapshot value {value!r:.200} is not JSON-serialisable ({exc})") from exc


def _reply_provenance(reply: Reply) -> dict[str, Any]:
    return {
        "emulated": reply.emulated,
        "flavor": reply.flavor,
        "mode": reply.mode,
        "model": reply.model,
        "plugin_version": plugin_version(),
        "route": reply.route,
    }


def _response_provenance(data: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    first = data[0] if isinstance(data, list) and data else data
    model = first.get("model") if isinstance(first, Mapping) else None
    return {"model": model, "plugin_version": plugin_version()}

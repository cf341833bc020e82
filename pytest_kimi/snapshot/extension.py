"""The syrupy extension that stores model replies as readable, policy-carrying records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from syrupy.extensions.amber import AmberSnapshotExtension

from pytest_kimi.snapshot.policies import Policy
from pytest_kimi.snapshot.record import RECORD_FORMAT, build_record

if TYPE_CHECKING:
    from syrupy.types import SerializableData

__all__ = [
    "FieldVerdict",
    "KimiReplyExtension",
    "SnapshotVerdict",
    "compare_records",
    "drain_verdicts",
    "explain_verdict",
    "serialize_record",
]

# Verdicts of the comparisons run in this process since the last drain. Tests run one at
# a time in a process (xdist uses one process per worker), so the report plugin drains
# this list after each test and files the verdicts under that test.
_recorded_verdicts: list[SnapshotVerdict] = []


@dataclass(frozen=True)
class FieldVerdict:
    """The comparison of one field under the policy stored in the snapshot."""

    field: str
    policy: str
    passed: bool
    score: float | None
    detail: str


@dataclass(frozen=True)
class SnapshotVerdict:
    """The comparison of a new record with a stored one, field by field."""

    matched: bool
    fields: list[FieldVerdict] = field(default_factory=list)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the verdict as JSON-ready data for the run report."""
        return asdict(self)


def serialize_record(data: Any) -> str:
    """Return the snapshot text of a `Reply`, raw response or `ReplySubject`."""
    record = build_record(data)
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False)


def compare_records(stored: str, new: str) -> SnapshotVerdict:
    """Compare two serialized records, each field under the policy stored in `stored`.

    A field present on one side only fails unless its policy is `ignore`. A field
    whose policy differs between the two records fails, so a new policy takes effect
    only after `--snapshot-update` stores it. Provenance is never compared.
    """
    if stored == new:
        # Equal text passes every policy, so the per-field comparison is skipped.
        return SnapshotVerdict(True, [], None)
    stored_record = _load_record(stored)
    new_record = _load_record(new)
    if stored_record is None or new_record is None:
        note = (
            "the stored snapshot is not a pytest-kimi record; "
            "re-run pytest with --snapshot-update to rewrite it"
        )
        return SnapshotVerdict(stored == new, [], None if stored == new else note)
    stored_fields: dict[str, Any] = stored_record["fields"]
    new_fields: dict[str, Any] = new_record["fields"]
    verdicts = [
        _compare_field(name, stored_fields.get(name), new_fields.get(name))
        for name in sorted(set(stored_fields) | set(new_fields))
    ]
    return SnapshotVerdict(all(verdict.passed for verdict in verdicts), verdicts)


def drain_verdicts() -> list[SnapshotVerdict]:
    """Return and forget the verdicts recorded in this process since the last call."""
    drained = list(_recorded_verdicts)
    _recorded_verdicts.clear()
    return drained


class KimiReplyExtension(AmberSnapshotExtension):
    """Store model replies in amber files as JSON records and compare them by policy.

    Use it as `assert reply == snapshot(extension_class=KimiReplyExtension)`, or
    through `kimi_snapshot(snapshot, ...)` to choose policies. The storage is
    syrupy's amber file, so syrupy's locking of amber writes under pytest-xdist
    applies unchanged.
    """

    def serialize(self, data: SerializableData, **kwargs: Any) -> str:
        """Return the record of `data` as indented JSON with sorted keys.

        Raises:
            TypeError: `exclude` or `include` is given, which this extension replaces
                with per-field policies.
        """
        if kwargs.get("exclude") is not None or kwargs.get("include") is not None:
            raise TypeError(
                "KimiReplyExtension does not support exclude= or include=; "
                "give the field the 'ignore' policy in kimi_snapshot(policies=...) instead"
            )
        return serialize_record(data)

    def matches(
        self,
        *,
        serialized_data: SerializableData,
        snapshot_data: SerializableData,
    ) -> bool:
        """Compare the new record with the stored one under the stored policies."""
        verdict = compare_records(str(snapshot_data), str(serialized_data))
        _recorded_verdicts.append(verdict)
        return verdict.matched


def explain_verdict(verdict: SnapshotVerdict) -> list[str]:
    """Return one line per failing field with its policy, score and detail."""
    lines = [verdict.note] if verdict.note else []
    for item in verdict.fields:
        if not item.passed:
            score = "n/a" if item.score is None else f"{item.score:.4g}"
            lines.append(
                f"field {item.field!r} failed policy {item.policy} (score {score}): {item.detail}"
            )
    return lines


def _load_record(text: str) -> dict[str, Any] | None:
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        return None
    if not isinstance(record.get("fields"), dict):
        return None
    return record


def _compare_field(name: str, stored: Any, new: Any) -> FieldVerdict:
    if stored is None or new is None:
        present = stored if stored is not None else new
        policy = str(present["policy"])
        if policy == "ignore":
            return FieldVerdict(name, policy, True, None, "not compared")
        where = "the new reply" if new is None else "the stored snapshot"
        return FieldVerdict(name, policy, False, None, f"field is missing from {where}")
    if stored["policy"] != new["policy"]:
        detail = (
            f"policy changed from {stored['policy']} to {new['policy']}; "
            "re-run pytest with --snapshot-update to store the new policy"
        )
        return FieldVerdict(name, str(stored["policy"]), False, None, detail)
    rule = Policy.parse(str(stored["policy"]))
    try:
        score = rule.apply(stored["value"], new["value"])
    except ValueError as exc:
        return FieldVerdict(name, str(rule), False, None, str(exc))
    return FieldVerdict(name, str(rule), score.passed, score.score, score.detail)

"""`kimi_snapshot`, the helper that snapshots a reply with chosen policies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from syrupy.assertion import SnapshotAssertion

from pytest_kimi.snapshot.extension import KimiReplyExtension
from pytest_kimi.snapshot.masking import DEFAULT_MASK_PATHS
from pytest_kimi.snapshot.policies import PolicySpec
from pytest_kimi.snapshot.record import ReplySubject, TracePolicy

__all__ = ["KimiSnapshot", "kimi_snapshot"]


class KimiSnapshot:
    """A comparison target: `reply == kimi_snapshot(snapshot)` runs a syrupy assertion.

    The comparison goes through `snapshot(extension_class=KimiReplyExtension)`, so
    syrupy's naming, `--snapshot-update` and unused-snapshot checks apply unchanged.
    """

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, snapshot: SnapshotAssertion, options: Mapping[str, Any]) -> None:
        self.snapshot = snapshot
        self.options = dict(options)

    def __eq__(self, other: object) -> bool:
        subject = ReplySubject(other, **self.options)  # type: ignore[arg-type]
        return bool(self.snapshot(extension_class=KimiReplyExtension) == subject)

    def __repr__(self) -> str:
        return f"kimi_snapshot({self.snapshot!r})"


def kimi_snapshot(
    snapshot: SnapshotAssertion,
    *,
    policies: Mapping[str, PolicySpec] | None = None,
    citations: Iterable[str | int] | None = None,
    samples: Sequence[bool] | None = None,
    extra: Mapping[str, Any] | None = None,
    trace_policy: TracePolicy = "summary",
    mask_paths: Sequence[str] = DEFAULT_MASK_PATHS,
) -> KimiSnapshot:
    """Return a target that compares a reply with its stored snapshot record.

    Args:
        snapshot: syrupy's `snapshot` fixture.
        policies: Field name to policy (`Policy` or its string form, such as
            `"similar(0.8)"`); fields not named keep their default policy.
        citations: Sources the reply cites, stored as the `citations` field.
        samples: Pass/fail results of repeated runs, stored as the `pass_rate` field.
        extra: Further fields of the caller's own, compared `exact` by default.
        trace_policy: `summary` stores the reasoning length, `store` the text as
            well, `omit` nothing.
        mask_paths: Dotted paths masked in raw response dicts; see `mask_volatile`.

    Returns:
        An object to compare with: `assert reply == kimi_snapshot(snapshot)`.

    Examples:
        >>> assert reply == kimi_snapshot(snapshot, policies={"content": "similar(0.8)"})
    """
    options: dict[str, Any] = {
        "citations": citations,
        "extra": dict(extra or {}),
        "mask_paths": tuple(mask_paths),
        "policies": dict(policies or {}),
        "samples": samples,
        "trace_policy": trace_policy,
    }
    return KimiSnapshot(snapshot, options)

"""Snapshots of model replies that mask volatile values and compare fields by policy."""

from __future__ import annotations

from pytest_kimi.snapshot.assertion import KimiSnapshot, kimi_snapshot
from pytest_kimi.snapshot.extension import (
    FieldVerdict,
    KimiReplyExtension,
    SnapshotVerdict,
    compare_records,
    drain_verdicts,
    explain_verdict,
    serialize_record,
)
from pytest_kimi.snapshot.masking import DEFAULT_MASK_PATHS, mask_volatile
from pytest_kimi.snapshot.policies import Policy, PolicyScore, word_similarity
from pytest_kimi.snapshot.record import RECORD_FORMAT, ReplySubject, build_record

__all__ = [
    "DEFAULT_MASK_PATHS",
    "FieldVerdict",
    "KimiReplyExtension",
    "KimiSnapshot",
    "Policy",
    "PolicyScore",
    "RECORD_FORMAT",
    "ReplySubject",
    "SnapshotVerdict",
    "build_record",
    "compare_records",
    "drain_verdicts",
    "explain_verdict",
    "kimi_snapshot",
    "mask_volatile",
    "serialize_record",
    "word_similarity",
]

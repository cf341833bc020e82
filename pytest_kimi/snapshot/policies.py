"""Comparison policies that decide whether a stored snapshot field still matches.

A policy is stored next to its value in the snapshot, as a short string such as
`similar(0.8)`, so a later run compares with the rule the test author chose.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Policy", "PolicyKind", "PolicySpec", "PolicyScore", "word_similarity"]

PolicyKind = Literal["citations", "exact", "ignore", "json", "number", "pass_rate", "similar"]

_PARAMETER_KINDS: dict[str, str] = {
    "number": "tolerance",
    "pass_rate": "margin",
    "similar": "threshold",
}
_PLAIN_KINDS = ("citations", "exact", "ignore", "json")
_SPEC_PATTERN = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([^()]*?)\s*\))?\s*$")


@dataclass(frozen=True)
class PolicyScore:
    """The outcome of one policy applied to a stored and a new value.

    `score` is the measured quantity: the similarity ratio for `similar`, the
    absolute difference for `number`, the new pass rate for `pass_rate`, the
    Jaccard index for `citations`, 1.0 or 0.0 for `exact` and `json`, and
    `None` for `ignore`.
    """

    passed: bool
    score: float | None
    detail: str


@dataclass(frozen=True)
class Policy:
    """A rule for comparing one snapshot field.

    Build one with the class methods (`Policy.similar(0.8)`) or parse its
    string form (`Policy.parse("similar(0.8)")`).
    """

    kind: PolicyKind
    parameter: float | None = None

    def __post_init__(self) -> None:
        name = _PARAMETER_KINDS.get(self.kind)
        if name is None:
            if self.parameter is not None:
                raise ValueError(
                    f"policy {self.kind!r} takes no parameter, got {self.parameter!r}; "
                    f"write it as {self.kind!r}"
                )
            return
        if self.parameter is None or not math.isfinite(self.parameter):
            raise ValueError(
                f"policy {self.kind!r} needs a finite {name}, got {self.parameter!r}; "
                f"write it as '{self.kind}(0.1)'"
            )
        if self.parameter < 0 or (self.kind != "number" and self.parameter > 1):
            upper = "" if self.kind == "number" else " and at most 1"
            raise ValueError(
                f"{name} of policy {self.kind!r} must be at least 0{upper}, got {self.parameter!r}"
            )

    def __str__(self) -> str:
        if self.parameter is None:
            return self.kind
        return f"{self.kind}({self.parameter:g})"

    @classmethod
    def exact(cls) -> Policy:
        """Return a policy that passes only on equal values."""
        return cls("exact")

    @classmethod
    def json(cls) -> Policy:
        """Return a policy that parses JSON strings and compares the parsed values."""
        return cls("json")

    @classmethod
    def number(cls, tolerance: float) -> Policy:
        """Return a policy that passes when `abs(new - stored) <= tolerance`."""
        return cls("number", float(tolerance))

    @classmethod
    def citations(cls) -> Policy:
        """Return a policy that passes when both values cite the same set of sources."""
        return cls("citations")

    @classmethod
    def similar(cls, threshold: float) -> Policy:
        """Return a policy that passes when `word_similarity(stored, new) >= threshold`."""
        return cls("similar", float(threshold))

    @classmethod
    def pass_rate(cls, margin: float) -> Policy:
        """Return a policy that passes when the new pass rate >= stored rate - `margin`."""
        return cls("pass_rate", float(margin))

    @classmethod
    def ignore(cls) -> Policy:
        """Return a policy that stores the value for review and never compares it."""
        return cls("ignore")

    @classmethod
    def parse(cls, spec: PolicySpec) -> Policy:
        """Parse the string form of a policy, such as `exact` or `number(0.05)`.

        Raises:
            ValueError: `spec` names no known policy or has a bad parameter.
        """
        if isinstance(spec, Policy):
            return spec
        match = _SPEC_PATTERN.match(spec)
        known = ", ".join([*_PLAIN_KINDS, *(f"{k}({v})" for k, v in _PARAMETER_KINDS.items())])
        if match is None or match.group(1) not in (*_PLAIN_KINDS, *_PARAMETER_KINDS):
            raise ValueError(f"unknown snapshot policy {spec!r}; known policies: {known}")
        kind, raw = match.group(1), match.group(2)
        try:
            parameter = float(raw) if raw else None
        except ValueError:
            raise ValueError(
                f"snapshot policy {spec!r} has a parameter that is not a number: {raw!r}"
            ) from None
        return cls(kind, parameter)  # type: ignore[arg-type]

    def apply(self, stored: Any, new: Any) -> PolicyScore:
        """Compare `new` with `stored` under this policy.

        Raises:
            ValueError: a value has the wrong type for the policy.
        """
        if self.kind == "ignore":
            return PolicyScore(True, None, "not compared")
        if self.kind == "exact":
            return _equal_score(stored == new)
        if self.kind == "json":
            return _equal_score(_parse_json(stored) == _parse_json(new))
        if self.kind == "citations":
            return _citations_score(stored, new)
        if self.kind == "number":
            return _number_score(stored, new, self._required_parameter())
        if self.kind == "similar":
            return _similar_score(stored, new, self._required_parameter())
        return _pass_rate_score(stored, new, self._required_parameter())

    def _required_parameter(self) -> float:
        assert self.parameter is not None, "checked in __post_init__"
        return self.parameter


PolicySpec = Policy | str


def word_similarity(stored: str, new: str) -> float:
    """Return the difflib ratio of two texts compared word by word.

    The texts are split on whitespace and compared with
    `difflib.SequenceMatcher(autojunk=False)`, so the ratio is
    `2 * matching_words / total_words`: 1.0 for the same words in the same
    order, 0.0 for no word in common. Word order counts.
    """
    if not stored and not new:
        return 1.0
    matcher = difflib.SequenceMatcher(None, stored.split(), new.split(), autojunk=False)
    return matcher.ratio()


def _equal_score(equal: bool) -> PolicyScore:
    return PolicyScore(equal, 1.0 if equal else 0.0, "equal" if equal else "values differ")


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _citations_score(stored: Any, new: Any) -> PolicyScore:
    old_set = {str(item) for item in stored or ()}
    new_set = {str(item) for item in new or ()}
    union = old_set | new_set
    jaccard = len(old_set & new_set) / len(union) if union else 1.0
    missing = sorted(old_set - new_set)
    added = sorted(new_set - old_set)
    detail = (
        "same citations"
        if not union ^ (old_set & new_set)
        else (f"missing {missing}, added {added}")
    )
    return PolicyScore(old_set == new_set, jaccard, detail)


def _number_score(stored: Any, new: Any, tolerance: float) -> PolicyScore:
    for label, value in (("stored", stored), ("new", new)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(
                f"policy number({tolerance:g}) needs numbers, but the {label} value is "
                f"{value!r}; use 'exact' or 'json' for other values"
            )
    difference = abs(float(new) - float(stored))
    passed = difference <= tolerance
    return PolicyScore(passed, difference, f"difference {difference:g}, tolerance {tolerance:g}")


def _similar_score(stored: Any, new: Any, threshold: float) -> PolicyScore:
    ratio = word_similarity("" if stored is None else str(stored), "" if new is None else str(new))
    detail = f"word similarity {ratio:.3f}, threshold {threshold:g}"
    return PolicyScore(ratio >= threshold, ratio, detail)


def _pass_rate_score(stored: Any, new: Any, margin: float) -> PolicyScore:
    old_rate = _read_rate(stored, "stored")
    new_rate = _read_rate(new, "new")
    passed = new_rate >= old_rate - margin - 1e-12
    detail = f"pass rate {new_rate:.3f}, stored {old_rate:.3f}, margin {margin:g}"
    return PolicyScore(passed, new_rate, detail)


def _read_rate(value: Any, label: str) -> float:
    if isinstance(value, dict) and isinstance(value.get("rate"), int | float):
        return float(value["rate"])
    raise ValueError(
        f"policy pass_rate needs a record such as {{'passed': 8, 'total': 10, 'rate': 0.8}}, "
        f"but the {label} value is {value!r}; pass samples=[...] to kimi_snapshot()"
    )

"""Run-to-run stability: the same question sampled several times agrees with itself."""

from __future__ import annotations

from pytest_kimi.parity import assert_stable


def test_arithmetic_answer_is_stable(kimi):
    result = kimi.sample("What is 17 * 23? Reply with just the number.", n=5, max_tokens=32768)

    assert_stable(result, min_agreement=0.8)
    assert result.majority == "391"
    assert len(result.replies) == 5

from __future__ import annotations

import pytest

from pytest_kimi.grounding import (
    Corpus,
    JudgeOutputError,
    judge_grounding,
    parse_judge_verdict,
)

SOURCES = Corpus.from_texts(["Revenue grew 5% in 2020.", "Costs fell."], ids=["S1", "S2"])


class FakeJudge:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.reply


def test_judge_prompt_and_verdict() -> None:
    judge = FakeJudge("VERDICT: UNSUPPORTED\nREASON: The sources give 5%, not 7%.")

    verdict = judge_grounding("Revenue grew 7% [1].", SOURCES, chat=judge, question="Growth?")

    assert verdict.verdict == "UNSUPPORTED"
    assert not verdict.supported
    assert verdict.reason == "The sources give 5%, not 7%."
    assert verdict.raw == judge.reply
    (prompt,) = judge.prompts
    assert "[1] Revenue grew 5% in 2020." in prompt
    assert "[2] Costs fell." in prompt
    assert "Question: Growth?" in prompt
    assert "Revenue grew 7% [1]." in prompt


@pytest.mark.parametrize(
    ("raw", "verdict", "reason"),
    [
        ("**Verdict:** SUPPORTED\n**Reason:** matches S1", "SUPPORTED", "matches S1"),
        (
            '{"verdict": "unsupported", "reason": "7% is not in S1"}',
            "UNSUPPORTED",
            "7% is not in S1",
        ),
        ("<think>SUPPORTED or UNSUPPORTED?</think>\nUNSUPPORTED", "UNSUPPORTED", ""),
        ("verdict = supported", "SUPPORTED", ""),
        ("SUPPORTED", "SUPPORTED", ""),
    ],
)
def test_verdict_forms(raw: str, verdict: str, reason: str) -> None:
    parsed = parse_judge_verdict(raw)

    assert parsed.verdict == verdict
    assert parsed.reason == reason


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        ("I think it is fine.", "no SUPPORTED or UNSUPPORTED verdict"),
        ("Parts are SUPPORTED, parts UNSUPPORTED.", "both SUPPORTED and UNSUPPORTED"),
        ("", "no SUPPORTED or UNSUPPORTED verdict"),
    ],
)
def test_unparsable_judge_output(raw: str, cause: str) -> None:
    with pytest.raises(JudgeOutputError, match=cause):
        judge_grounding("Revenue grew 5% [1].", SOURCES, chat=FakeJudge(raw))

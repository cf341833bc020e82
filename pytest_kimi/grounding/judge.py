"""Ask a judge model whether an answer is supported by its sources, and parse its verdict."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pytest_kimi.grounding.documents import NUMBER_STYLE, Corpus, render_prompt
from pytest_kimi.grounding.errors import JudgeOutputError

__all__ = ["JUDGE_PROMPT", "JudgeVerdict", "judge_grounding", "parse_judge_verdict"]

Verdict = Literal["SUPPORTED", "UNSUPPORTED"]

JUDGE_PROMPT = """\
You check whether an answer is supported by its sources.

Sources:
{sources}
{question}
Answer:
{answer}

Is every factual claim in the answer supported by the sources? Reply with exactly two lines:
VERDICT: SUPPORTED or UNSUPPORTED
REASON: one sentence that names the unsupported claim, if any"""

_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_VERDICT_LINE = re.compile(r"^\W*verdict\W*[:=\-]\W*(SUPPORTED|UNSUPPORTED)\b", re.I | re.M)
_REASON_LINE = re.compile(r"^\W*reason\W*[:=\-][ \t*]*(.+)$", re.I | re.M)
_BARE_WORD = re.compile(r"\b(UNSUPPORTED|SUPPORTED)\b")


@dataclass(frozen=True)
class JudgeVerdict:
    """The judge's verdict, its stated reason and the judge's raw output."""

    verdict: Verdict
    reason: str
    raw: str

    @property
    def supported(self) -> bool:
        """Whether the verdict is `SUPPORTED`."""
        return self.verdict == "SUPPORTED"


def parse_judge_verdict(raw: str) -> JudgeVerdict:
    """Parse a verdict from the judge's output.

    Accepted forms, tried in order: a JSON object with `verdict` (and `reason`),
    a `VERDICT: ...` line (with an optional `REASON: ...` line), or exactly one of
    the upper-case words SUPPORTED and UNSUPPORTED anywhere in the text.
    A `<think>...</think>` block is ignored.

    Raises:
        JudgeOutputError: when no verdict or two different verdicts are found.
    """
    text = _THINKING.sub("", raw).strip()
    parsed = _parse_json_verdict(text)
    if parsed is not None:
        return JudgeVerdict(parsed[0], parsed[1], raw)
    line = _VERDICT_LINE.search(text)
    reason_line = _REASON_LINE.search(text)
    reason = reason_line.group(1).strip() if reason_line else ""
    if line is not None:
        return JudgeVerdict(_verdict(line.group(1)), reason, raw)
    bare = set(_BARE_WORD.findall(text))
    if len(bare) == 1:
        return JudgeVerdict(_verdict(bare.pop()), reason, raw)
    cause = "both SUPPORTED and UNSUPPORTED" if bare else "no SUPPORTED or UNSUPPORTED verdict"
    raise JudgeOutputError(
        f"cannot parse the judge output ({cause}): {raw[:200]!r}. Ask the judge to reply with "
        "'VERDICT: SUPPORTED' or 'VERDICT: UNSUPPORTED' on its own line."
    )


def _verdict(word: str) -> Verdict:
    return "UNSUPPORTED" if word.upper() == "UNSUPPORTED" else "SUPPORTED"


def _parse_json_verdict(text: str) -> tuple[Verdict, str] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    verdict = str(value.get("verdict", "")).strip().upper()
    if verdict not in ("SUPPORTED", "UNSUPPORTED"):
        return None
    return _verdict(verdict), str(value.get("reason", ""))


def judge_grounding(
    answer: str,
    corpus: Corpus,
    *,
    chat: Callable[[str], str],
    question: str | None = None,
    prompt_template: str = JUDGE_PROMPT,
    style: str = NUMBER_STYLE,
) -> JudgeVerdict:
    """Send the sources and the answer to a judge model and parse its verdict.

    Args:
        answer: the answer to judge.
        corpus: the sources, rendered with location markers in `style`.
        chat: any callable that sends one user prompt and returns the model's text.
        question: the question that was asked, shown to the judge when given.
        prompt_template: a template with the fields `{sources}`, `{question}` and `{answer}`.
        style: the location marker style; use the style the answer's citations use.

    Returns:
        The parsed verdict. A test asserts `verdict.supported`.

    Raises:
        JudgeOutputError: when the judge's output holds no verdict that can be parsed.
    """
    prompt = prompt_template.format(
        sources=render_prompt(corpus, style=style),
        question=f"\nQuestion: {question}\n" if question else "",
        answer=answer,
    )
    return parse_judge_verdict(chat(prompt))

"""Thinking and instant modes: the same question, with and without reasoning."""

from __future__ import annotations

import pytest

QUESTION = "What is 17 * 23? Reply with just the number."


@pytest.mark.kimi(modes=["thinking", "preserve"])
def test_thinking_mode_reasons_before_answering(kimi):
    reply = kimi.chat(QUESTION, max_tokens=32768)

    assert reply.has_reasoning(), "thinking mode must return reasoning"
    assert "391" in reply.text
    assert reply.finish_reason == "stop"


@pytest.mark.kimi(modes=["instant"])
def test_instant_mode_answers_without_reasoning(kimi):
    reply = kimi.chat(QUESTION, max_tokens=1024)

    assert not reply.has_reasoning(), "instant mode must not return reasoning"
    assert reply.text.strip() == "391"


@pytest.mark.kimi(modes=["thinking"])
def test_streaming_matches_non_streaming(kimi):
    plain = kimi.chat(QUESTION, stream=False, max_tokens=32768)
    streamed = kimi.chat(QUESTION, stream=True, max_tokens=32768)

    assert "391" in plain.text
    assert "391" in streamed.text
    assert streamed.usage.total_tokens, "the stream must report usage"
    assert streamed.timings.time_to_first_token_s is not None

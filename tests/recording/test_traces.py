"""Reasoning trace policies: store, redact and drop, on responses, streams and history."""

from __future__ import annotations

import json

import pytest
from recording_helpers import Project

from pytest_kimi.recording.traces import apply_stream_trace_policy, placeholder

TRACE_TESTS = """
import json, os
import pytest

@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_reasoning(kimi, stream):
    reply = kimi.chat("What is 17 * 23?", stream=stream)
    print("REASONING", json.dumps(reply.reasoning))

@pytest.mark.kimi(modes=["preserve"])
def test_two_turns(kimi):
    talk = kimi.conversation()
    talk.send("What is 17 * 23?")
    talk.send("And 18 * 23?")
"""


def _reasonings(result: pytest.RunResult) -> list[str]:
    return [
        json.loads(line.split("REASONING", 1)[1]) for line in result.outlines if "REASONING" in line
    ]


@pytest.mark.parametrize("policy", ["redact", "drop"])
def test_policy_hides_reasoning_and_replays(project: Project, policy: str) -> None:
    project.configure(f'\n[tool.pytest_kimi.record]\ntrace_policy = "{policy}"\n')
    project.write_test(TRACE_TESTS)
    modes = ("--kimi-mode", "thinking,preserve")
    recorded = project.run("-s", *modes, "--kimi-record-mode", "once")
    recorded.assert_outcomes(passed=5)
    originals = _reasonings(recorded)
    assert all(originals)
    for path in project.cassettes():
        text = path.read_text()
        for original in originals:
            assert json.dumps(original)[1:-1] not in text, path

    replayed = project.run("-s", *modes, "--kimi-record-mode", "none")
    replayed.assert_outcomes(passed=5)
    for original, again in zip(originals, _reasonings(replayed), strict=True):
        assert again.strip()
        if policy == "redact":
            assert again.startswith(f"[reasoning redacted: {len(original)} chars, sha256 ")
            assert len(again) == max(len(original), len(again.split("]")[0]) + 1)
        else:
            assert again == "[reasoning dropped]"


def test_store_keeps_reasoning(project: Project) -> None:
    project.write_test(TRACE_TESTS)
    recorded = project.run("-s", "--kimi-record-mode", "once", "-k", "reasoning")
    recorded.assert_outcomes(passed=2)
    originals = _reasonings(recorded)
    replayed = project.run("-s", "--kimi-record-mode", "none", "-k", "reasoning")
    assert _reasonings(replayed) == originals


def test_marker_trace_policy(project: Project) -> None:
    project.write_test(
        """
import pytest

@pytest.mark.kimi(trace_policy="drop")
def test_marked(kimi):
    kimi.chat("What is 2 + 2?")
"""
    )
    project.run("--kimi-record-mode", "once").assert_outcomes(passed=1)
    raw = project.raw("test_marked[emulator-thinking]")
    message = raw["interactions"][0]["response"]["json"]["choices"][0]["message"]
    assert message["reasoning_content"] == "[reasoning dropped]"
    assert raw["provenance"]["trace_policy"] == "drop"


def test_stream_pieces_keep_lengths() -> None:
    pieces = ["The question ", "is about 17 and 23, ", "so the product is 391 after ", "work."]
    events = [
        {"json": {"choices": [{"index": 0, "delta": {"reasoning_content": p}}]}} for p in pieces
    ]
    apply_stream_trace_policy(events, "redact")
    stored = [e["json"]["choices"][0]["delta"]["reasoning_content"] for e in events]
    assert [len(p) for p in stored] == [len(p) for p in pieces]
    assert "".join(stored) == placeholder("".join(pieces), "redact")
    apply_stream_trace_policy(events, "redact")
    again = [e["json"]["choices"][0]["delta"]["reasoning_content"] for e in events]
    assert again == stored


def test_blank_reasoning_is_left_alone() -> None:
    assert placeholder("", "redact") == ""
    assert placeholder("  ", "drop") == "  "

"""A long-document needle test: one fact hidden at several depths and lengths.

The grid here stays small so the pack runs in seconds; raise LENGTHS towards
256_000 tokens to test K2.6's full window on a live route.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_kimi.grounding import build_haystack, context_budget, needle_grid

DEPTHS = [0.1, 0.5, 0.9]
LENGTHS = [2_000, 16_000]
NEEDLE = "The lighthouse keeper's locker combination is 7741."
QUESTION = "What is the lighthouse keeper's locker combination?"
SOURCE = Path(__file__).parent.parent / "fixtures" / "documents" / "cc0-1.0.txt"
MAX_TOKENS = 32_768


@pytest.mark.parametrize(("depth", "length"), needle_grid(DEPTHS, LENGTHS))
def test_needle_is_found(kimi, needle_results, depth, length):
    haystack = build_haystack(
        needles=[NEEDLE],
        depths=[depth],
        length_tokens=length,
        source_text=SOURCE,
        distractors=["The harbour master's locker is never locked."],
        seed=1,
    )
    context_budget(
        haystack.length_tokens, MAX_TOKENS, kimi.route.context_window, route=kimi.route.name
    )
    prompt = f"{haystack.text}\n\nAnswer from the document above. {QUESTION}"

    reply = kimi.chat(prompt, max_tokens=MAX_TOKENS)

    passed = "7741" in reply.text
    cell = needle_results / f"{kimi.route.name}-{kimi.mode}-{depth}-{length}.json"
    cell.write_text(json.dumps({
        "target": f"{kimi.route.name}-{kimi.mode}", "depth": depth, "length": length,
        "passed": passed,
    }))
    assert passed, f"needle at depth {depth} of {length} tokens not found: {reply.text[:200]!r}"

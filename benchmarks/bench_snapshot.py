"""Time 1,000 snapshot assertions through KimiReplyExtension against syrupy's amber default.

Both sides run the path one `assert reply == snapshot` takes once the stored
snapshot is in memory: serialize the reply, then compare with the stored text.
The timing is taken in-process, not through two pytest runs, because pytest
start-up and collection would dominate the few milliseconds being compared.
Amber file reads are cached per session by syrupy for both extensions.

Run: PYTHONPATH=. python benchmarks/bench_snapshot.py
"""

from __future__ import annotations

import platform
import time

from syrupy.extensions.amber import AmberSnapshotExtension
from syrupy.extensions.base import AbstractSyrupyExtension

from pytest_kimi.client.reply import Reply, Timings, ToolCall, Usage
from pytest_kimi.snapshot import KimiReplyExtension

ASSERTIONS = 1_000
ROUNDS = 5


def make_reply(index: int, route: str = "official") -> Reply:
    """Return a reply of realistic size: a paragraph, reasoning and one tool call."""
    return Reply(
        content=" ".join(f"word{index}-{n}" for n in range(80)),
        reasoning="step " * 200,
        tool_calls=[ToolCall(id=f"call_{index}", name="lookup", arguments='{"q": "x", "n": 3}')],
        finish_reason="stop",
        usage=Usage(prompt_tokens=120, completion_tokens=90, reasoning_tokens=40),
        timings=Timings(total_s=1.5, time_to_first_token_s=0.3),
        route=route,
        mode="thinking",
        model="kimi-k2.6",
        flavor="moonshot",
        streamed=False,
        request={"messages": [{"role": "user", "content": "hello"}]},
        response={"id": f"chatcmpl-{index}"},
    )


def time_extension(
    extension: AbstractSyrupyExtension, replies: list[Reply], recorded: list[Reply]
) -> float:
    """Return the best-of-ROUNDS seconds for serialize plus compare over all replies."""
    stored = [extension.serialize(reply) for reply in recorded]
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for reply, snapshot_data in zip(replies, stored, strict=True):
            data = extension.serialize(reply)
            assert extension.matches(serialized_data=data, snapshot_data=snapshot_data)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print both timings and their ratio."""
    replies = [make_reply(index) for index in range(ASSERTIONS)]
    # Recorded on another route: the provenance differs, so the Kimi texts are not equal
    # and every field goes through its policy. Amber stores the route too, so it would
    # fail here; the baseline therefore compares equal replies.
    moved = [make_reply(index, route="vllm") for index in range(ASSERTIONS)]
    amber = time_extension(AmberSnapshotExtension(), replies, replies)
    kimi = time_extension(KimiReplyExtension(), replies, replies)
    kimi_moved = time_extension(KimiReplyExtension(), replies, moved)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"amber (syrupy default): {amber * 1000:.1f} ms for {ASSERTIONS} assertions")
    print(f"KimiReplyExtension:     {kimi * 1000:.1f} ms for {ASSERTIONS} assertions")
    print(f"KimiReplyExtension, route changed since recording: {kimi_moved * 1000:.1f} ms")
    print(f"ratio kimi/amber: {kimi / amber:.2f} (goal <= 1.30)")
    print(f"ratio kimi (route changed)/amber: {kimi_moved / amber:.2f} (goal <= 1.30)")


if __name__ == "__main__":
    main()

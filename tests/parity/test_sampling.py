"""`sample` and `assert_stable` against the emulator over loopback HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.parity.sampling import (
    assert_stable,
    normalize_text,
    resolve_json_pointer,
    sample,
)

ClientFactory = Callable[..., KimiClient]
PROMPT = "What is 17 * 23?"


def test_normalize_text_defaults() -> None:
    assert normalize_text("  The   Answer is 391.\n") == "the answer is 391"
    assert normalize_text("391!?") == "391"
    assert normalize_text(None) == ""


def test_json_pointer_escapes() -> None:
    document = {"a/b": {"c~d": [10, 20]}}
    assert resolve_json_pointer(document, "/a~1b/c~0d/1") == 20
    assert resolve_json_pointer(document, "") == document
    with pytest.raises(KeyError, match="no 'x'"):
        resolve_json_pointer(document, "/x")


def test_sample_agrees_on_default_answer(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    client = make_client("moonshot", "instant")
    result = sample(client, PROMPT, n=6)
    assert len(result.replies) == 6
    assert len(emulator.requests) == 6
    assert result.majority == "391"
    assert result.agreement == 1.0
    assert result.numeric == {"min": 391.0, "max": 391.0, "mean": 391.0, "stdev": 0.0}
    assert_stable(result, min_agreement=1.0)


def test_sample_counts_scripted_disagreement(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    emulator.script(match={"contains": "17 * 23"}, reply={"content": "391."}, times=3)
    emulator.script(match={"contains": "17 * 23"}, reply={"content": "392"}, times=2)
    client = make_client("moonshot", "instant")
    result = sample(client, PROMPT, n=5)
    assert result.counts == [("391", 3), ("392", 2)]
    assert result.majority == "391"
    assert result.agreement == pytest.approx(0.6)
    assert result.numeric is not None
    assert result.numeric["min"] == 391.0
    assert result.numeric["max"] == 392.0
    assert result.numeric["stdev"] > 0


def test_assert_stable_lists_distinct_answers(
    make_client: ClientFactory, emulator: EmulatorServer
) -> None:
    emulator.script(match={"contains": "17 * 23"}, reply={"content": "Paris"}, times=2)
    emulator.script(match={"contains": "17 * 23"}, reply={"content": "Lyon"}, times=2)
    client = make_client("moonshot", "instant")
    result = sample(client, PROMPT, n=4)
    with pytest.raises(AssertionError) as failure:
        assert_stable(result, min_agreement=0.8)
    message = str(failure.value)
    assert "agreement 0.50" in message
    assert "2x 'paris'" in message
    assert "2x 'lyon'" in message


def test_sample_reads_json_pointer(make_client: ClientFactory, emulator: EmulatorServer) -> None:
    for city in ("Oslo", "Oslo", "Bergen"):
        emulator.script(
            match={"contains": "capital"}, reply={"content": json.dumps({"city": city})}, times=1
        )
    client = make_client("moonshot", "instant")
    result = sample(client, "Which capital?", n=3, answer="/city")
    assert sorted(result.answers) == ["Bergen", "Oslo", "Oslo"]
    assert result.majority == "Oslo"
    assert result.numeric is None


def test_sample_reads_answer_with_callable(make_client: ClientFactory) -> None:
    client = make_client("moonshot", "thinking")
    result = sample(client, PROMPT, n=2, answer=lambda reply: reply.has_reasoning())
    assert result.answers == [True, True]


def test_sample_respects_max_concurrency(make_client: ClientFactory) -> None:
    client = make_client("moonshot", "instant", route_options={"max_concurrency": 2})
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    original = client.send

    def counting_send(body: object, *, check: bool | None = None) -> object:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return original(body, check=check)  # type: ignore[arg-type]
        finally:
            with lock:
                in_flight -= 1

    client.send = counting_send  # type: ignore[method-assign,assignment]
    result = sample(client, PROMPT, n=8)
    assert result.n == 8
    assert 1 <= peak <= 2


def test_sample_rejects_zero_n(make_client: ClientFactory) -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        sample(make_client(), PROMPT, n=0)

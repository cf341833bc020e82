"""Send one request N times and measure how often the answers agree.

`sample(kimi, prompt, n=8)` sends the N requests concurrently from a
thread pool over the synchronous client, at most the route's
`max_concurrency` at a time, and returns a `SampleResult` with the
majority answer, the agreement rate and, for numeric answers, the spread.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_kimi.parity.stats import spread

if TYPE_CHECKING:
    from pytest_kimi.client.client import ContentInput, KimiClient
    from pytest_kimi.client.reply import Reply

__all__ = [
    "AnswerKey",
    "SampleResult",
    "answer_of",
    "assert_stable",
    "normalize_text",
    "resolve_json_pointer",
    "sample",
]

# How to read the answer of a reply: None (normalised content), a JSON
# pointer such as "/city" into the content parsed as JSON, or a callable.
AnswerKey = str | Callable[["Reply"], Any] | None

_WHITESPACE = re.compile(r"\s+")
_TRAILING = string.punctuation + "。．，、！？；：…"


def normalize_text(text: str | None) -> str:
    """Strip, casefold, collapse whitespace and drop trailing punctuation."""
    collapsed = _WHITESPACE.sub(" ", (text or "").strip().casefold())
    return collapsed.rstrip(_TRAILING).rstrip()


def resolve_json_pointer(document: Any, pointer: str) -> Any:
    """Return the value at an RFC 6901 JSON pointer (`""` is the whole document).

    Raises:
        KeyError: a segment names a key or index that is not there.
    """
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise KeyError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    current = document
    for raw in pointer[1:].split("/"):
        segment = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            raise KeyError(f"JSON pointer {pointer!r}: no {segment!r} in {current!r:.200}")
    return current


def answer_of(reply: Reply, key: AnswerKey = None) -> Any:
    """Return the answer of `reply` as `key` reads it (see `AnswerKey`)."""
    if key is None:
        return normalize_text(reply.content)
    if callable(key):
        return key(reply)
    try:
        document = json.loads(reply.text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"answer key {key!r} is a JSON pointer, but the reply content is not JSON "
            f"({exc.msg}): {reply.text[:200]!r}. Ask for JSON output or pass a callable."
        ) from exc
    return resolve_json_pointer(document, key)


def _count_key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None
    return None


@dataclass
class SampleResult:
    """N replies to one request and how much their answers agree.

    `answers` are in send order; `counts` lists each distinct answer with
    how many replies gave it, most common first (ties in order of first
    appearance). `numeric` is the spread (min, max, mean, stdev) when every
    answer reads as a number, else `None`.
    """

    replies: list[Reply]
    answers: list[Any]
    counts: list[tuple[Any, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.counts:
            firsts: dict[Any, Any] = {}
            for answer in self.answers:
                firsts.setdefault(_count_key(answer), answer)
            tally = Counter(_count_key(answer) for answer in self.answers)
            self.counts = [(firsts[key], count) for key, count in tally.most_common()]

    @property
    def n(self) -> int:
        """The number of replies."""
        return len(self.answers)

    @property
    def majority(self) -> Any:
        """The most common answer (`None` when there are no replies)."""
        return self.counts[0][0] if self.counts else None

    @property
    def agreement(self) -> float:
        """The share of replies that gave the majority answer, from 0 to 1."""
        return self.counts[0][1] / self.n if self.counts else 0.0

    @property
    def numeric(self) -> dict[str, float] | None:
        """The spread of the answers when all of them are numbers."""
        numbers = [_as_number(answer) for answer in self.answers]
        if not numbers or any(number is None for number in numbers):
            return None
        return spread(number for number in numbers if number is not None)

    def describe(self) -> str:
        """Return one line per distinct answer with its count."""
        return "\n".join(f"  {count}x {answer!r}" for answer, count in self.counts)


def sample(
    client: KimiClient,
    prompt: ContentInput,
    *,
    n: int,
    answer: AnswerKey = None,
    max_concurrency: int | None = None,
    **chat_fields: Any,
) -> SampleResult:
    """Send the same chat request `n` times concurrently and compare the answers.

    Args:
        client: the client to send with (for example the `kimi` fixture).
        prompt: the prompt, as `KimiClient.chat` takes it.
        n: how many requests to send.
        answer: how to read each answer; see `AnswerKey`.
        max_concurrency: requests in flight at once; defaults to, and is capped
            by, the route's `max_concurrency`.
        **chat_fields: passed to `client.chat` (`system`, `tools`, `check`, ...).

    Raises:
        ValueError: `n` or `max_concurrency` is not a positive integer.
        KimiError: the first request that failed, after all have finished.
    """
    if n < 1:
        raise ValueError(f"sample() needs n >= 1, got n={n!r}")
    limit = client.route.max_concurrency
    if max_concurrency is not None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency!r}")
        limit = min(limit, max_concurrency)
    workers = max(1, min(n, limit))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kimi-sample") as pool:
        futures = [pool.submit(client.chat, prompt, **chat_fields) for _ in range(n)]
        replies = [future.result() for future in futures]
    return SampleResult(replies=replies, answers=[answer_of(reply, answer) for reply in replies])


def assert_stable(result: SampleResult, min_agreement: float = 0.8) -> None:
    """Fail when fewer than `min_agreement` of the replies gave the majority answer."""
    __tracebackhide__ = True
    if not 0.0 <= min_agreement <= 1.0:
        raise ValueError(f"min_agreement must be in [0, 1], got {min_agreement!r}")
    if result.agreement >= min_agreement:
        return
    route = result.replies[0].route if result.replies else "?"
    raise AssertionError(
        f"answers on route {route!r} are not stable: agreement {result.agreement:.2f} "
        f"({result.counts[0][1] if result.counts else 0} of {result.n}) is below "
        f"min_agreement {min_agreement:.2f}. Distinct answers:\n{result.describe()}"
    )

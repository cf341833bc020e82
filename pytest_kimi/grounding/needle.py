"""Needle-in-a-haystack prompts, context-window budgets and pass/fail heatmaps.

Token counts here are estimates: by default 4 characters per token, a common rule
of thumb for English text. Pass `count_tokens` (for example a tokenizer's
`lambda text: len(tokenizer.encode(text))`) to measure instead of estimate.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_kimi.grounding.errors import ContextBudgetError

__all__ = [
    "CHARS_PER_TOKEN",
    "Haystack",
    "HeatmapFiles",
    "NeedlePosition",
    "build_haystack",
    "context_budget",
    "default_haystack_text",
    "estimate_tokens",
    "fit_haystack_length",
    "needle_grid",
    "write_heatmap",
]

CHARS_PER_TOKEN = 4.0
# how far (in characters) to look either side of the requested offset for a sentence end
_BOUNDARY_WINDOW = 2000
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+|\n\s*\n")


def estimate_tokens(text: str, *, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    """Estimate the token count of `text` as `len(text) / chars_per_token`, rounded up."""
    return math.ceil(len(text) / chars_per_token)


def default_haystack_text() -> str:
    """Return real English prose available on every CPython install: the `pydoc` topics.

    This is the text of the Python language reference that `help()` shows, read from
    `pydoc_data.topics`. It changes between Python versions, so pass a fixed
    `source_text` when a haystack must be identical across versions.
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name].strip() for name in sorted(topics))


@dataclass(frozen=True)
class NeedlePosition:
    """The position of one inserted needle or distractor.

    `char_offset` is exact. `token_offset` and `depth` are estimates computed with the
    same token counter as the haystack (`depth` is `token_offset / length_tokens`).
    `distractor` is true for distractor sentences.
    """

    text: str
    requested_depth: float
    char_offset: int
    token_offset: int
    depth: float
    distractor: bool = False


@dataclass(frozen=True)
class Haystack:
    """A long text with needles inserted at sentence boundaries.

    `length_tokens` is an estimate unless the haystack was built with `count_tokens`.
    """

    text: str
    positions: tuple[NeedlePosition, ...]
    length_tokens: int
    seed: int

    @property
    def needles(self) -> tuple[NeedlePosition, ...]:
        """The needle positions, without distractors."""
        return tuple(position for position in self.positions if not position.distractor)

    def prompt(self, question: str) -> str:
        """Return the haystack followed by the question."""
        return f"{self.text}\n\nQuestion: {question.strip()}"


def build_haystack(
    *,
    needles: Sequence[str] | str,
    depths: Sequence[float],
    length_tokens: int,
    source_text: str | Path | None = None,
    distractors: Sequence[str] | None = None,
    seed: int = 0,
    count_tokens: Callable[[str], int] | None = None,
    chars_per_token: float = CHARS_PER_TOKEN,
) -> Haystack:
    """Build a haystack of about `length_tokens` tokens with needles at the given depths.

    The source text is repeated until it is long enough, then cut. Each needle goes
    at the sentence end nearest to its depth (0.0 is the start, 1.0 the end), or at
    the exact offset when no sentence ends within 2,000 characters. Distractors go at
    depths drawn from `random.Random(seed)`.

    Args:
        needles: one needle for every depth, or one needle to put at every depth.
        depths: where to put each needle, from 0.0 to 1.0.
        length_tokens: the target length of the whole haystack, needles included.
        source_text: the filler text, or a `Path` to read it from (UTF-8); by default
            `default_haystack_text()`.
        distractors: sentences that resemble the needle but must not be reported.
        seed: the seed for distractor depths.
        count_tokens: a token counter; by default `len(text) / chars_per_token`.
        chars_per_token: the ratio used for the estimate when `count_tokens` is not given.

    Returns:
        The haystack, with every needle's exact character offset in `positions`.

    Raises:
        ValueError: on a depth outside 0..1, a needle/depth count mismatch, an empty
            source text, or needles longer than the whole haystack.
    """
    needle_list = _pair_needles(needles, depths)
    filler_source = _read_source(source_text)
    rng = random.Random(seed)
    inserts = [(text, depth, False) for text, depth in needle_list]
    inserts += [(text, rng.random(), True) for text in distractors or ()]
    ratio = _chars_per_token(filler_source, count_tokens, chars_per_token)
    inserted_chars = sum(len(text) + 1 for text, _, _ in inserts)
    filler_chars = int(length_tokens * ratio) - inserted_chars
    if filler_chars < 0:
        raise ValueError(
            f"needles and distractors ({inserted_chars} characters) do not fit in "
            f"{length_tokens} tokens: raise length_tokens or shorten the needles"
        )
    filler = _repeat_to(filler_source, filler_chars)
    text, offsets = _insert_at_boundaries(filler, inserts)
    counter = count_tokens or (lambda piece: estimate_tokens(piece, chars_per_token=ratio))
    total_tokens = counter(text)
    positions = tuple(
        _position(text, offset, insert, counter, total_tokens)
        for offset, insert in sorted(zip(offsets, inserts, strict=True), key=lambda pair: pair[0])
    )
    return Haystack(text=text, positions=positions, length_tokens=total_tokens, seed=seed)


def _pair_needles(needles: Sequence[str] | str, depths: Sequence[float]) -> list[tuple[str, float]]:
    needle_list = [needles] if isinstance(needles, str) else list(needles)
    for depth in depths:
        if not 0.0 <= depth <= 1.0:
            raise ValueError(f"invalid depth {depth}: use a fraction from 0.0 (start) to 1.0 (end)")
    if len(needle_list) == 1:
        needle_list = needle_list * len(depths)
    if len(needle_list) != len(depths) or not depths:
        raise ValueError(
            f"got {len(needle_list)} needles for {len(depths)} depths: give one needle per "
            "depth, or a single needle for all depths"
        )
    return list(zip(needle_list, depths, strict=True))


def _read_source(source_text: str | Path | None) -> str:
    if source_text is None:
        text = default_haystack_text()
    elif isinstance(source_text, Path):
        text = source_text.read_text(encoding="utf-8")
    else:
        text = source_text
    if not text.strip():
        raise ValueError("the haystack source text is empty: pass real text or a file path")
    return text


def _chars_per_token(
    source: str, count_tokens: Callable[[str], int] | None, chars_per_token: float
) -> float:
    if count_tokens is None:
        return chars_per_token
    sample = source[:20000]
    return len(sample) / max(1, count_tokens(sample))


def _repeat_to(source: str, length: int) -> str:
    unit = source.rstrip() + "\n\n"
    return (unit * (length // len(unit) + 1))[:length]


def _boundary_near(text: str, offset: int) -> int:
    if offset <= 0 or offset >= len(text):
        return max(0, min(offset, len(text)))
    low = max(0, offset - _BOUNDARY_WINDOW)
    window = text[low : offset + _BOUNDARY_WINDOW]
    ends = [low + match.end() for match in _SENTENCE_END.finditer(window)]
    if not ends:
        return offset
    return min(ends, key=lambda end: (abs(end - offset), end))


def _insert_at_boundaries(
    filler: str, inserts: Sequence[tuple[str, float, bool]]
) -> tuple[str, list[int]]:
    targets = [_boundary_near(filler, round(depth * len(filler))) for _, depth, _ in inserts]
    order = sorted(range(len(inserts)), key=lambda index: (targets[index], index))
    pieces: list[str] = []
    offsets = [0] * len(inserts)
    previous = 0
    length = 0
    for index in order:
        pieces.append(filler[previous : targets[index]])
        length += targets[index] - previous
        offsets[index] = length
        pieces.append(inserts[index][0] + " ")
        length += len(inserts[index][0]) + 1
        previous = targets[index]
    pieces.append(filler[previous:])
    return "".join(pieces), offsets


def _position(
    text: str,
    offset: int,
    insert: tuple[str, float, bool],
    counter: Callable[[str], int],
    total_tokens: int,
) -> NeedlePosition:
    token_offset = counter(text[:offset])
    depth = token_offset / total_tokens if total_tokens else 0.0
    return NeedlePosition(insert[0], insert[1], offset, token_offset, depth, insert[2])


def _length_id(length: int) -> str:
    if length >= 1000 and length % 1000 == 0:
        return f"{length // 1000}k"
    if length >= 1024 and length % 1024 == 0:
        return f"{length // 1024}k"
    return str(length)


def needle_grid(depths: Sequence[float], lengths: Sequence[int]) -> list[Any]:
    """Return `pytest.param(depth, length)` for every cell, with ids such as `d25-L8k`.

    Use it as `@pytest.mark.parametrize(("depth", "length"), needle_grid(...))`.

    Multiples of 1000 are written in thousands (`128000` is `128k`), other multiples
    of 1024 in units of 1024 (`8192` is `8k`, `262144` is `256k`).

    Examples:
        >>> [p.id for p in needle_grid([0.25], [8192, 1500])]
        ['d25-L8k', 'd25-L1500']
    """
    return [
        pytest.param(depth, length, id=f"d{depth * 100:g}-L{_length_id(length)}")
        for length in lengths
        for depth in depths
    ]


def context_budget(
    prompt_tokens: int,
    max_tokens: int,
    window: int,
    *,
    margin: int = 0,
    route: str = "default",
) -> int:
    """Check that the prompt plus `max_tokens` plus `margin` fits the context window.

    Call this before sending, so an oversized request fails in the test instead of
    as an HTTP 400 from the server.

    Args:
        prompt_tokens: the prompt's token count (or estimate).
        max_tokens: the completion budget of the request.
        window: the route's context window (vLLM's `max_model_len`).
        margin: tokens kept free for the chat template and estimate error.
        route: the route name, shown in the error.

    Returns:
        The tokens left over.

    Raises:
        ContextBudgetError: `context budget exceeded on route vllm (120000 + 10000 > 16384)`.
    """
    __tracebackhide__ = True
    left = window - prompt_tokens - max_tokens - margin
    if left >= 0:
        return left
    terms = f"{prompt_tokens} + {max_tokens}"
    if prompt_tokens + max_tokens <= window:
        terms += f" + {margin} margin"
    fit = max(0, window - max_tokens - margin)
    raise ContextBudgetError(
        f"context budget exceeded on route {route} ({terms} > {window}). Shorten the prompt to "
        f"at most {fit} tokens (fit_haystack_length gives a haystack size that fits), lower "
        "max_tokens, or run on a route with a larger context window."
    )


def fit_haystack_length(
    window: int, max_tokens: int, margin: int = 0, *, overhead_tokens: int = 0
) -> int:
    """Return the largest haystack length, in tokens, that fits the context window.

    Args:
        window: the route's context window.
        max_tokens: the completion budget of the request.
        margin: tokens kept free for the chat template and estimate error.
        overhead_tokens: tokens of the rest of the prompt (question, instructions).

    Raises:
        ContextBudgetError: when nothing fits.
    """
    __tracebackhide__ = True
    length = window - max_tokens - margin - overhead_tokens
    if length <= 0:
        raise ContextBudgetError(
            f"no haystack fits: window {window} - max_tokens {max_tokens} - margin {margin} - "
            f"overhead {overhead_tokens} = {length} tokens. Lower max_tokens or use a route "
            "with a larger context window."
        )
    return length


@dataclass(frozen=True)
class HeatmapFiles:
    """The files `write_heatmap` wrote, and each cell's pixel box `(left, top, right, bottom)`."""

    png: Path
    json: Path
    cells: Mapping[tuple[float, int], tuple[int, int, int, int]]


_PASS = (46, 160, 67)
_FAIL = (200, 40, 40)
_MISSING = (200, 200, 200)
_CELL = 48
_LEFT = 80
_TOP = 40
_BOTTOM = 60


def write_heatmap(
    results: Mapping[tuple[float, int], bool], path: str | Path, *, title: str = ""
) -> HeatmapFiles:
    """Write a PNG heatmap of pass (green) and fail (red) per (depth, length) cell.

    Rows are depths (top is 0 %), columns are lengths in tokens; a cell with no
    result is grey. A JSON file with the same name and a `.json` suffix is written
    next to it with the depths, lengths and each cell's result.

    Returns:
        The two paths and the pixel box of every cell.
    """
    from PIL import Image, ImageDraw, ImageFont

    png_path = Path(path)
    depths = sorted({depth for depth, _ in results})
    lengths = sorted({length for _, length in results})
    width = _LEFT + _CELL * len(lengths) + 20
    height = _TOP + _CELL * len(depths) + _BOTTOM
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    cells: dict[tuple[float, int], tuple[int, int, int, int]] = {}
    for row, depth in enumerate(depths):
        top = _TOP + row * _CELL
        draw.text((8, top + _CELL // 2 - 6), f"{depth * 100:g}%", fill="black", font=font)
        for column, length in enumerate(lengths):
            left = _LEFT + column * _CELL
            box = (left, top, left + _CELL - 1, top + _CELL - 1)
            passed = results.get((depth, length))
            if passed is None:
                color = _MISSING
            else:
                color = _PASS if passed else _FAIL
            draw.rectangle(box, fill=color, outline="white")
            cells[(depth, length)] = box
    bottom = _TOP + _CELL * len(depths)
    for column, length in enumerate(lengths):
        label = _length_id(length)
        draw.text((_LEFT + column * _CELL + 6, bottom + 6), label, fill="black", font=font)
    draw.text((_LEFT, bottom + 30), "context length (tokens)", fill="black", font=font)
    draw.text((8, 8), title or "needle depth (rows) by context length", fill="black", font=font)
    draw.text((8, _TOP - 16), "depth", fill="black", font=font)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    image.save(png_path, format="PNG")
    json_path = png_path.with_suffix(".json")
    record = {
        "depths": depths,
        "lengths": lengths,
        "cells": [
            {"depth": depth, "length": length, "passed": passed}
            for (depth, length), passed in sorted(results.items())
        ],
    }
    json_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return HeatmapFiles(png_path, json_path, cells)

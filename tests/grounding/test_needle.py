from __future__ import annotations

import json
from pathlib import Path

import numpy
import pytest
from PIL import Image

from pytest_kimi.grounding import (
    ContextBudgetError,
    build_haystack,
    context_budget,
    estimate_tokens,
    fit_haystack_length,
    needle_grid,
    write_heatmap,
)

CC0 = Path(__file__).parents[2] / "fixtures" / "documents" / "cc0-1.0.txt"
_PASS_RGB = (46, 160, 67)
_FAIL_RGB = (200, 40, 40)
_MISSING_RGB = (200, 200, 200)
NEEDLE = "The secret passphrase for the vault is amber-falcon-42."


@pytest.mark.parametrize("depth", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_needle_offset_is_exact(depth: float) -> None:
    haystack = build_haystack(needles=NEEDLE, depths=[depth], length_tokens=8000, source_text=CC0)

    (position,) = haystack.positions
    assert haystack.text[position.char_offset :].startswith(NEEDLE)
    assert haystack.text.count(NEEDLE) == 1
    assert abs(position.depth - depth) < 0.02
    assert position.token_offset == estimate_tokens(haystack.text[: position.char_offset])


def test_needle_goes_at_sentence_boundary() -> None:
    haystack = build_haystack(needles=NEEDLE, depths=[0.5], length_tokens=4000, source_text=CC0)

    offset = haystack.positions[0].char_offset
    before = haystack.text[:offset].rstrip()
    assert before[-1] in ".!?)\"'" or haystack.text[offset - 2 : offset] == "\n\n"


def test_length_is_close_to_target() -> None:
    haystack = build_haystack(needles=NEEDLE, depths=[0.3], length_tokens=20_000, source_text=CC0)

    assert haystack.length_tokens == estimate_tokens(haystack.text)
    assert abs(haystack.length_tokens - 20_000) <= 1


def test_source_text_is_cycled_verbatim() -> None:
    source = CC0.read_text(encoding="utf-8")
    haystack = build_haystack(needles=NEEDLE, depths=[0.99], length_tokens=6000, source_text=CC0)

    assert haystack.text.startswith(source.rstrip())
    assert len(haystack.text) > 2 * len(source)


def test_several_needles_and_distractors() -> None:
    needles = ["Fact one is red.", "Fact two is blue.", "Fact three is green."]
    haystack = build_haystack(
        needles=needles,
        depths=[0.1, 0.5, 0.8],
        length_tokens=10_000,
        source_text=CC0,
        distractors=["Fact four is nearly red."],
        seed=3,
    )

    assert [p.text for p in haystack.needles] == needles
    assert [p.distractor for p in haystack.positions].count(True) == 1
    for position in haystack.positions:
        assert haystack.text[position.char_offset :].startswith(position.text)
    offsets = [p.char_offset for p in haystack.positions]
    assert offsets == sorted(offsets)


def test_same_seed_same_haystack() -> None:
    def build(seed: int) -> str:
        return build_haystack(
            needles=NEEDLE,
            depths=[0.4],
            length_tokens=5000,
            source_text=CC0,
            distractors=["A decoy passphrase is amber-falcon-24."],
            seed=seed,
        ).text

    assert build(1) == build(1)
    assert build(1) != build(2)


def test_count_tokens_override() -> None:
    def count_words(text: str) -> int:
        return len(text.split())

    haystack = build_haystack(
        needles=NEEDLE, depths=[0.5], length_tokens=3000, source_text=CC0, count_tokens=count_words
    )

    assert haystack.length_tokens == count_words(haystack.text)
    assert abs(haystack.length_tokens - 3000) < 150
    position = haystack.positions[0]
    assert position.token_offset == count_words(haystack.text[: position.char_offset])


def test_default_source_is_real_text() -> None:
    haystack = build_haystack(needles=NEEDLE, depths=[0.5], length_tokens=2000)

    assert "statement" in haystack.text.lower()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depths": [1.5]}, "invalid depth 1.5"),
        ({"depths": [0.1, 0.2], "needles": ["a", "b", "c"]}, "got 3 needles for 2 depths"),
        ({"depths": [0.5], "length_tokens": 5}, "do not fit in 5 tokens"),
        ({"depths": [0.5], "source_text": "  "}, "source text is empty"),
    ],
)
def test_invalid_haystack_arguments(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"needles": NEEDLE, "length_tokens": 1000, "source_text": CC0}
    arguments.update(kwargs)

    with pytest.raises(ValueError, match=message):
        build_haystack(**arguments)  # type: ignore[arg-type]


def test_needle_grid_ids_and_values() -> None:
    grid = needle_grid([0.25, 0.5], [8192, 128_000, 262_144, 1500])

    assert [p.id for p in grid] == [
        "d25-L8k",
        "d50-L8k",
        "d25-L128k",
        "d50-L128k",
        "d25-L256k",
        "d50-L256k",
        "d25-L1500",
        "d50-L1500",
    ]
    assert grid[0].values == (0.25, 8192)


def test_budget_fails_before_sending_on_small_route() -> None:
    haystack_tokens = 120_000

    with pytest.raises(ContextBudgetError) as info:
        context_budget(haystack_tokens, 10_000, 16_384, route="vllm")

    assert str(info.value).startswith(
        "context budget exceeded on route vllm (120000 + 10000 > 16384)"
    )


def test_budget_fits_on_large_route() -> None:
    assert context_budget(120_000, 10_000, 262_144, route="official", margin=512) == 131_632


def test_margin_alone_can_exceed_budget() -> None:
    with pytest.raises(ContextBudgetError, match=r"\(6000 \+ 10000 \+ 512 margin > 16384\)"):
        context_budget(6000, 10_000, 16_384, route="vllm", margin=512)


def test_fitted_haystack_passes_budget() -> None:
    length = fit_haystack_length(16_384, 10_000, 512)
    haystack = build_haystack(needles=NEEDLE, depths=[0.5], length_tokens=length, source_text=CC0)

    assert length == 5872
    assert context_budget(haystack.length_tokens, 10_000, 16_384, margin=512, route="vllm") >= 0


def test_fit_fails_when_nothing_fits() -> None:
    with pytest.raises(ContextBudgetError, match="no haystack fits"):
        fit_haystack_length(8192, 8192, 0)


def test_heatmap_png_and_json(tmp_path: Path) -> None:
    results = {(0.0, 8192): True, (0.5, 8192): False, (0.0, 131072): True}

    files = write_heatmap(results, tmp_path / "nested" / "needle.png", title="K2.6 needle")

    with Image.open(files.png) as image:
        assert image.format == "PNG"
        pixels = numpy.asarray(image.convert("RGB")).astype(int)
    expected = {
        (0.0, 8192): _PASS_RGB,
        (0.5, 8192): _FAIL_RGB,
        (0.5, 131072): _MISSING_RGB,
        (0.0, 131072): _PASS_RGB,
    }
    for cell, color in expected.items():
        left, top, right, bottom = files.cells[cell]
        assert tuple(pixels[(top + bottom) // 2, (left + right) // 2]) == color, cell
    left_of_row = pixels[files.cells[(0.5, 8192)][1] : files.cells[(0.5, 8192)][3], :60]
    assert left_of_row.min() < 100  # the depth label is drawn in black
    record = json.loads(files.json.read_text(encoding="utf-8"))
    assert files.json == tmp_path / "nested" / "needle.json"
    assert record["depths"] == [0.0, 0.5]
    assert record["lengths"] == [8192, 131072]
    assert {"depth": 0.5, "length": 8192, "passed": False} in record["cells"]

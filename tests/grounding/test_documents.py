from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kimi.grounding import (
    ID_STYLE,
    LENTICULAR_STYLE,
    NUMBER_STYLE,
    Corpus,
    Document,
    render_prompt,
)

CC0 = Path(__file__).parents[2] / "fixtures" / "documents" / "cc0-1.0.txt"

MARKDOWN = """# Guide

Intro paragraph.

## Setup

Install the package.

### Linux

Use apt.

```bash
# not a heading
```
"""


def test_lines_match_file_line_numbers() -> None:
    corpus = Corpus.from_files([CC0], unit="line")
    file_lines = CC0.read_text(encoding="utf-8").split("\n")

    location = corpus.resolve("doc1:L14")

    assert location is not None
    assert location.id == "doc1:L14"
    assert location.text == file_lines[13]
    assert location.number == 14


def test_paragraph_ids_and_offsets() -> None:
    text = "First para.\n\n  Second para,\nstill second.\n\n\n\nThird."
    corpus = Corpus.from_texts([text], unit="paragraph")

    locations = corpus.locations

    assert [loc.id for loc in locations] == ["doc1:P1", "doc1:P2", "doc1:P3"]
    assert [text[loc.start : loc.end] for loc in locations] == [
        "First para.",
        "Second para,\nstill second.",
        "Third.",
    ]


def test_pages_split_at_form_feed() -> None:
    corpus = Corpus.from_texts(["page one\fpage two\fpage three"], unit="page")

    assert [loc.id for loc in corpus.locations] == ["doc1:page1", "doc1:page2", "doc1:page3"]
    assert corpus.resolve("doc1:page2") is not None
    assert corpus.resolve("doc1:page2").text == "page two"  # type: ignore[union-attr]


def test_chunks_cover_text_without_cutting_words() -> None:
    text = CC0.read_text(encoding="utf-8")
    corpus = Corpus.from_texts([text], unit="chunk", chunk_size=500)

    locations = corpus.locations

    assert "".join(loc.text for loc in locations) == text
    assert all(len(loc.text) <= 500 for loc in locations)
    assert all(loc.text[-1].isspace() for loc in locations[:-1])


def test_numbers_count_across_documents() -> None:
    corpus = Corpus.from_texts(["a\nb", "c\nd\ne"], unit="line")

    assert len(corpus) == 5
    assert corpus.resolve(4) is not None
    assert corpus.resolve(4).id == "doc2:L2"  # type: ignore[union-attr]
    assert corpus.resolve("doc2:L3").number == 5  # type: ignore[union-attr]


@pytest.mark.parametrize("label", ["0", "6", "doc3:L1", "doc1:P1", "doc1:L9", "sic", "doc1"])
def test_unknown_labels_resolve_to_none(label: str) -> None:
    corpus = Corpus.from_texts(["a\nb", "c\nd\ne"], unit="line")

    assert corpus.resolve(label) is None


def test_document_unit_resolves_bare_id() -> None:
    corpus = Corpus.from_texts(["x", "y"], ids=["S1", "S2"])

    assert corpus.resolve("S2") is not None
    assert corpus.resolve("S2").text == "y"  # type: ignore[union-attr]


def test_markdown_headings_become_context() -> None:
    document = Document.from_markdown(MARKDOWN)
    corpus = Corpus([document], unit="paragraph")

    by_text = {loc.text: loc.context for loc in corpus.locations}

    assert document.title == "Guide"
    assert by_text["Use apt."] == "Guide > Setup > Linux"
    assert by_text["Install the package."] == "Guide > Setup"
    assert [name for _, _, name in document.headings] == ["Guide", "Setup", "Linux"]


def test_markdown_file_loader(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(MARKDOWN, encoding="utf-8")

    document = Document.from_file(path, id="g")

    assert document.title == "guide.md"
    assert len(document.headings) == 3


def test_invalid_and_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="invalid document id 'doc:1'"):
        Document.from_text("x", id="doc:1")
    with pytest.raises(ValueError, match="duplicate document id 'a'"):
        Corpus([Document.from_text("x", id="a"), Document.from_text("y", id="a")])


@pytest.mark.parametrize(
    ("style", "first_marker"),
    [(ID_STYLE, "[doc1:P1]"), (NUMBER_STYLE, "[1]"), (LENTICULAR_STYLE, "【1】")],
)
def test_render_prompt_styles(style: str, first_marker: str) -> None:
    corpus = Corpus.from_texts(["One.\n\nTwo.", "Three."], unit="paragraph")

    prompt = render_prompt(corpus, style=style, question="What is two?")

    assert prompt.startswith("Document doc1\n" + first_marker + " One.")
    assert prompt.endswith("Question: What is two?")
    assert prompt.count("Document doc") == 2


def test_render_prompt_numbers_match_resolve() -> None:
    corpus = Corpus.from_texts(["One.\n\nTwo.", "Three."], unit="paragraph")

    prompt = render_prompt(corpus)

    assert "[3] Three." in prompt
    assert corpus.resolve(3).text == "Three."  # type: ignore[union-attr]


def test_render_prompt_shows_markdown_context() -> None:
    corpus = Corpus([Document.from_markdown(MARKDOWN)], unit="paragraph")

    prompt = render_prompt(corpus, style=ID_STYLE)

    assert "(Guide > Setup > Linux) Use apt." in prompt

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_kimi.grounding import (
    CitationStream,
    Corpus,
    join_citation_stream,
    parse_citations,
)


def labels(text: str) -> list[str]:
    return [citation.label for citation in parse_citations(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Revenue grew [3].", ["3"]),
        ("Revenue grew [1][7].", ["1", "7"]),
        ("Revenue grew [1, 2].", ["1", "2"]),
        ("Revenue grew [1-3].", ["1", "2", "3"]),
        ("Revenue grew [2–4].", ["2", "3", "4"]),
        ("Line cited [doc2:L14].", ["doc2:L14"]),
        ("Two ids [doc1:P3, doc2:C5].", ["doc1:P3", "doc2:C5"]),
        ("Found it 【3†source】.", ["3"]),
        ("Found it 【4:0†report.pdf】.", ["4"]),
        ("Found it 【3】.", ["3"]),
        ("Revenue grew^[3].", ["3"]),
        ("A footnote[^2] here.", ["2"]),
        ("Start of text: [5] is cited.", ["5"]),
    ],
)
def test_citation_styles_are_recognised(text: str, expected: list[str]) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Here are [5 reasons] to care.",
        "He wrote it [sic] that way.",
        "See the [2024 report] for details.",
        "Index with a[3] and x[i].",
        "Call f(x)[0] once.",
        "Use `values[2]` here.",
        "```python\nrows[1]\nprint(rows[2])\n```",
        "~~~\nitems[4]\n~~~",
        "A [link](https://example.org/3) and [3](https://example.org).",
        "A reference link [the docs][1] is not a citation.",
        "[1]: https://example.org/reference",
        "- [x] done\n- [ ] todo",
        "A range [1-1000] is too wide.",
        "A reversed range [5-2] is not a citation.",
    ],
)
def test_ordinary_brackets_are_not_citations(text: str) -> None:
    assert labels(text) == []


def test_citation_span_and_marker() -> None:
    text = "Sales rose [1, 2] and fell 【3†source】."

    citations = parse_citations(text)

    assert [c.span for c in citations] == [(11, 17), (11, 17), (27, 37)]
    assert {text[slice(*c.span)] for c in citations} == {"[1, 2]", "【3†source】"}
    assert [c.style for c in citations] == ["bracket", "bracket", "lenticular"]


def test_citation_after_code_span_is_kept() -> None:
    assert labels("Call `a[1]` as shown [2].") == ["2"]


def test_attached_citation_needs_option() -> None:
    text = "Revenue grew[4]."

    assert labels(text) == []
    assert [c.label for c in parse_citations(text, allow_attached=True)] == ["4"]


def test_chain_after_indexing_is_not_citation() -> None:
    assert labels("matrix[1][2] is a cell") == []


def test_corpus_fills_location_ids() -> None:
    corpus = Corpus.from_texts(["a", "b", "c"], ids=["S1", "S2", "S3"])

    citations = parse_citations("See [2] and [9].", corpus)

    assert [c.location_id for c in citations] == ["S2", None]


def test_stream_keeps_split_words_and_markers() -> None:
    chunks = ["See the [5 rea", "sons] list [", "2] and 【3†source】."]

    joined = join_citation_stream(chunks)

    assert "[5 reasons]" in joined.text
    assert joined.text == "".join(chunks)
    assert "".join(joined.emitted) == joined.text
    assert [c.number for c in joined.citations] == [2, 3]
    assert [c.style for c in joined.citations] == ["bracket", "lenticular"]


def test_stream_releases_plain_bracket_text_at_once() -> None:
    stream = CitationStream()

    first = stream.feed("See the [5 rea")

    assert first == "See the [5 rea"


def test_stream_holds_possible_marker_until_decided() -> None:
    stream = CitationStream()

    assert stream.feed("Growth was strong [") == "Growth was strong "
    assert stream.feed("1") == ""
    assert stream.feed("]. Next") == "[1]. Next"


def test_stream_close_releases_held_tail() -> None:
    stream = CitationStream()
    stream.feed("ends with [12")

    assert stream.close() == "[12"
    assert stream.text == "ends with [12"
    with pytest.raises(ValueError, match="closed"):
        stream.feed("more")


bracket_heavy = st.text(alphabet="[]【】†^,-–:0123456789 abcLPdoc`\n()", max_size=80)


@given(st.text())
def test_parser_never_raises_on_any_text(text: str) -> None:
    for citation in parse_citations(text):
        assert 0 <= citation.span[0] < citation.span[1] <= len(text)


@given(bracket_heavy)
def test_parser_never_raises_on_brackets(text: str) -> None:
    for citation in parse_citations(text, allow_attached=True):
        marker = text[citation.span[0] : citation.span[1]]
        assert marker == citation.marker


@given(st.lists(bracket_heavy, max_size=8))
def test_stream_loses_nothing(chunks: list[str]) -> None:
    joined = join_citation_stream(chunks)

    assert "".join(joined.emitted) == "".join(chunks)
    assert joined.citations == parse_citations("".join(chunks))

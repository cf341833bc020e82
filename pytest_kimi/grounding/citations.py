"""Parse citation markers in model answers, including answers that arrive as a stream.

Recognised markers: `[3]`, `[1][7]`, `[1, 2]`, `[1-3]`, `[doc2:L14]`, `【3†source】`,
`【4:0†source】`, `【3】`, `^[3]` and the Markdown footnote form `[^3]`.

Brackets that are not citations are skipped:

- words inside the brackets: `[5 reasons]`, `[sic]`, `[2024 report]`, checkboxes `[x]`;
- indexing: a bracket directly after a letter, digit, `_` or `)` (`a[3]`, `f(x)[0]`),
  unless `allow_attached=True` (`^[3]` and `[^3]` count even when attached);
- Markdown links `[3](url)`, reference links `[text][1]`, and definitions `[1]: url`
  at the start of a line;
- anything inside backtick code spans and fenced code blocks.

NOTE: a bracketed number in prose, such as a year (`[2024]`), is read as a citation,
and indented (4-space) code blocks are not recognised as code.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pytest_kimi.grounding.documents import Corpus

__all__ = [
    "Citation",
    "CitationStream",
    "MAX_RANGE",
    "StreamedText",
    "code_spans",
    "join_citation_stream",
    "parse_citations",
]

CitationStyle = Literal["bracket", "caret", "footnote", "lenticular"]

# a range such as [1-3] wider than this is not expanded and is not read as a citation
MAX_RANGE = 100

_ID = r"[A-Za-z][\w.-]*:(?:L|P|page|C)\d+"
_NUMBERS = r"\d+(?:[ \t]*[-–][ \t]*\d+)?(?:[ \t]*,[ \t]*\d+(?:[ \t]*[-–][ \t]*\d+)?)*"
_MARKER = re.compile(
    rf"(?P<caret>\^)?\[(?P<footnote>\^)?[ \t]*(?:(?P<numbers>{_NUMBERS})|(?P<ids>{_ID}"
    rf"(?:[ \t]*[,;][ \t]*{_ID})*))[ \t]*\]"
    r"|【[ \t]*(?P<lenticular>\d+)(?::\d+)?(?:†[^】\n]{0,200})?[ \t]*】"
)
_ATTACHED = re.compile(r"[\w)]")
_FENCED_CODE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))+?(?<!`)\1(?!`)")
_PARTIAL_MARKER = re.compile(
    r"\^|\^?\[\^?[\d \t,\-–]*"
    r"|\^?\[[A-Za-z][\w.-]*(?::[A-Za-z]*\d*)?(?:[ \t]*[,;][ \t]*[A-Za-z][\w.:-]*)*[ \t,;]*"
    r"|【[^】\n]{0,220}"
)


@dataclass(frozen=True)
class Citation:
    """One cited source.

    A marker that cites several sources (`[1, 2]`, `[1-3]`) gives one `Citation`
    each, all with the marker's `span` and `marker` text.

    Attributes:
        label: the cited source as written: `"7"` or `"doc2:L14"`.
        span: `(start, end)` offsets of the whole marker in the text.
        location_id: the id of the location it names (`"doc2:L14"`). For a number,
            this is set only when `parse_citations` got a corpus and the number resolves.
        number: the cited number, or `None` for an id citation.
        marker: the marker text, such as `"[1, 2]"`.
        style: `bracket`, `caret` (`^[3]`), `footnote` (`[^3]`) or `lenticular` (`【3】`).
    """

    label: str
    span: tuple[int, int]
    location_id: str | None = None
    number: int | None = None
    marker: str = ""
    style: CitationStyle = "bracket"


def code_spans(text: str) -> list[tuple[int, int]]:
    """Return the sorted `(start, end)` offsets of fenced code blocks and inline code spans."""
    if "`" not in text and "~~~" not in text:
        return []
    spans = [(match.start(), match.end()) for match in _FENCED_CODE.finditer(text)]
    fenced = list(spans)
    for match in _INLINE_CODE.finditer(text):
        if not _in_spans(match.start(), fenced):
            spans.append((match.start(), match.end()))
    spans.sort()
    return spans


def _span_start(span: tuple[int, int]) -> int:
    return span[0]


def _in_spans(offset: int, spans: list[tuple[int, int]]) -> bool:
    position = bisect.bisect_right(spans, offset, key=_span_start) - 1
    return position >= 0 and spans[position][0] <= offset < spans[position][1]


def parse_citations(
    text: str, corpus: Corpus | None = None, *, allow_attached: bool = False
) -> list[Citation]:
    """Return every citation in `text`, in order.

    Args:
        text: the answer.
        corpus: when given, `location_id` is filled in for numbers that resolve.
        allow_attached: read `word[3]` (no space) as a citation instead of indexing.

    Examples:
        >>> [c.label for c in parse_citations("Sales rose [1, 2] (see [5 reasons]) 【3†source】.")]
        ['1', '2', '3']
    """
    code = code_spans(text)
    citations: list[Citation] = []
    previous_end = -1
    for match in _MARKER.finditer(text):
        start, end = match.span()
        if code and (_in_spans(start, code) or _in_spans(end - 1, code)):
            continue
        if not _is_citation(text, match, previous_end, allow_attached):
            continue
        found = list(_citations_of(match, corpus))
        if found:
            citations.extend(found)
            previous_end = end
    return citations


def _is_citation(text: str, match: re.Match[str], previous_end: int, allow_attached: bool) -> bool:
    start, end = match.span()
    if match.group("lenticular") is not None:
        return True
    following = text[end : end + 1]
    if following == "(":
        return False  # Markdown link [3](url)
    if following == ":" and not text[text.rfind("\n", 0, start) + 1 : start].strip():
        return False  # link or footnote definition at the start of a line
    if match.group("caret") or match.group("footnote"):
        return True  # ^[3] and [^3] are citations even when attached to a word
    before = text[start - 1 : start]
    if before == "]":
        return previous_end == start  # [1][7] chains, [text][1] does not
    return allow_attached or not _ATTACHED.match(before)


def _citations_of(match: re.Match[str], corpus: Corpus | None) -> Iterable[Citation]:
    span = match.span()
    marker = match.group(0)
    if match.group("lenticular") is not None:
        number = int(match.group("lenticular"))
        yield _numbered(number, span, marker, "lenticular", corpus)
        return
    style: CitationStyle = "caret" if match.group("caret") else "bracket"
    if match.group("footnote"):
        style = "footnote"
    if match.group("ids") is not None:
        for label in re.split(r"[ \t]*[,;][ \t]*", match.group("ids")):
            yield Citation(label, span, label, None, marker, style)
        return
    numbers = _expand_numbers(match.group("numbers"))
    for number in numbers:
        yield _numbered(number, span, marker, style, corpus)


def _expand_numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in group.split(","):
        bounds = re.split(r"[ \t]*[-–][ \t]*", part.strip())
        first, last = int(bounds[0]), int(bounds[-1])
        if last < first or last - first > MAX_RANGE:
            return []
        numbers.extend(range(first, last + 1))
    return numbers


def _numbered(
    number: int, span: tuple[int, int], marker: str, style: CitationStyle, corpus: Corpus | None
) -> Citation:
    location = corpus.resolve(number) if corpus is not None else None
    location_id = location.id if location is not None else None
    return Citation(str(number), span, location_id, number, marker, style)


@dataclass
class StreamedText:
    """The result of joining a stream: the full text, its citations and what was emitted."""

    text: str
    citations: list[Citation]
    emitted: list[str] = field(default_factory=list)


class CitationStream:
    """Join streamed chunks, holding back only a tail that may still become a citation.

    `feed` returns the text that is safe to show now. A tail such as `[` or `[2` is
    held until the next chunk decides it, but `[5 rea` is released at once, because
    a letter after a space can never be part of a marker. `close` releases whatever
    is still held, so the emitted pieces always join to exactly the streamed text.

    Args:
        max_hold: the maximum length, in characters, of a held-back tail.
    """

    def __init__(self, *, max_hold: int = 256) -> None:
        self.max_hold = max_hold
        self._emitted: list[str] = []
        self._held = ""
        self._closed = False

    def feed(self, chunk: str) -> str:
        """Add a chunk and return the text that can be shown now (possibly empty)."""
        if self._closed:
            raise ValueError("the stream is closed: create a new CitationStream for a new answer")
        pending = self._held + chunk
        cut = _held_tail_start(pending, self.max_hold)
        self._held = pending[cut:]
        return self._emit(pending[:cut])

    def close(self) -> str:
        """Release the held tail and return it; the stream accepts no more chunks."""
        self._closed = True
        held, self._held = self._held, ""
        return self._emit(held)

    @property
    def text(self) -> str:
        """Everything fed so far, including the held tail."""
        return "".join(self._emitted) + self._held

    @property
    def emitted(self) -> list[str]:
        """The pieces returned by `feed` and `close`, in order (empty pieces left out)."""
        return list(self._emitted)

    def citations(self, corpus: Corpus | None = None) -> list[Citation]:
        """Parse the citations of everything fed so far."""
        return parse_citations(self.text, corpus)

    def _emit(self, piece: str) -> str:
        if piece:
            self._emitted.append(piece)
        return piece


def _held_tail_start(text: str, max_hold: int) -> int:
    start = max(text.rfind("["), text.rfind("【"), text.rfind("^"))
    if start < 0 or len(text) - start > max_hold:
        return len(text)
    if text[start] == "[" and text[start - 1 : start] == "^":
        start -= 1
    if _PARTIAL_MARKER.fullmatch(text, start):
        return start
    return len(text)


def join_citation_stream(
    chunks: Iterable[str], corpus: Corpus | None = None, *, max_hold: int = 256
) -> StreamedText:
    """Feed all chunks through a `CitationStream` and parse the joined text.

    Examples:
        >>> chunks = ["See the [5 rea", "sons] list [", "2] and 【3†source】."]
        >>> joined = join_citation_stream(chunks)
        >>> joined.text
        'See the [5 reasons] list [2] and 【3†source】.'
        >>> [c.number for c in joined.citations]
        [2, 3]
    """
    stream = CitationStream(max_hold=max_hold)
    for chunk in chunks:
        stream.feed(chunk)
    stream.close()
    return StreamedText(stream.text, stream.citations(corpus), stream.emitted)

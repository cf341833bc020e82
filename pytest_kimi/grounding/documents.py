"""Source documents split into addressable locations, and rendering them into a prompt.

A `Corpus` splits each `Document` into one kind of unit. Every location has an id
that names its document and position, and a number that counts across the corpus:

| unit        | id           | meaning                                            |
|-------------|--------------|----------------------------------------------------|
| `document`  | `doc2`       | the whole document                                 |
| `line`      | `doc2:L14`   | line 14, counted as an editor does (blank included)|
| `paragraph` | `doc1:P3`    | the third non-blank block between blank lines      |
| `page`      | `doc1:page2` | the second page, split at form feeds by default    |
| `chunk`     | `doc1:C5`    | the fifth fixed-size chunk, cut at whitespace      |

Numbers (`[3]`, `【3】`) count locations in corpus order, starting at 1.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "Corpus",
    "DEFAULT_PAGE_BREAK",
    "Document",
    "ID_STYLE",
    "LENTICULAR_STYLE",
    "Location",
    "NUMBER_STYLE",
    "Unit",
    "render_prompt",
]

Unit = Literal["document", "line", "paragraph", "page", "chunk"]

DEFAULT_PAGE_BREAK = "\f"
ID_STYLE = "[{id}]"
NUMBER_STYLE = "[{n}]"
LENTICULAR_STYLE = "【{n}】"

_UNIT_PREFIXES: dict[str, str] = {"line": "L", "paragraph": "P", "page": "page", "chunk": "C"}
_PREFIX_UNITS = {prefix: unit for unit, prefix in _UNIT_PREFIXES.items()}
_DOCUMENT_ID = re.compile(r"[A-Za-z][\w.-]*\Z")
_LOCATION_ID = re.compile(r"([A-Za-z][\w.-]*)(?::(L|P|page|C)(\d+))?\Z")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}


@dataclass(frozen=True)
class Location:
    """One addressable piece of a document: a line, paragraph, page, chunk or the whole text.

    `start` and `end` are character offsets into the document text, `index` counts
    from 1 within the document and `number` counts from 1 across the corpus.
    `context` is the Markdown heading path above the location (`"Setup > Linux"`),
    or an empty string.
    """

    id: str
    document_id: str
    unit: Unit
    index: int
    number: int
    start: int
    end: int
    text: str
    context: str = ""


@dataclass(frozen=True)
class Document:
    """A source text with an id that citations can name (`doc1`, `S2`, `report.v2`).

    `headings` contains `(offset, level, title)` for each Markdown ATX heading. It is
    empty for plain text.
    """

    id: str
    text: str
    title: str = ""
    headings: tuple[tuple[int, int, str], ...] = ()
    _heading_offsets: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    _heading_paths: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _DOCUMENT_ID.match(self.id):
            raise ValueError(
                f"invalid document id {self.id!r}: use a letter followed by letters, digits, "
                "'_', '.' or '-' (no ':'), for example 'doc1'"
            )
        self._index_headings()

    @classmethod
    def from_text(cls, text: str, *, id: str = "doc1", title: str = "") -> Document:
        """Create a plain-text document."""
        return cls(id=id, text=text, title=title)

    @classmethod
    def from_markdown(cls, text: str, *, id: str = "doc1", title: str = "") -> Document:
        """Create a Markdown document whose ATX headings become each location's context.

        Headings inside fenced code blocks are ignored. When `title` is empty, the
        first level-1 heading is used.
        """
        fences = [(match.start(), match.end()) for match in _FENCE.finditer(text)]
        headings = tuple(
            (match.start(), len(match.group(1)), match.group(2).strip())
            for match in _ATX_HEADING.finditer(text)
            if not _inside(match.start(), fences)
        )
        if not title:
            title = next((name for _, level, name in headings if level == 1), "")
        return cls(id=id, text=text, title=title, headings=headings)

    @classmethod
    def from_file(cls, path: str | Path, *, id: str = "doc1", encoding: str = "utf-8") -> Document:
        """Read a UTF-8 file; `.md` and `.markdown` files are read as Markdown.

        The title is the file name.
        """
        file_path = Path(path)
        text = file_path.read_text(encoding=encoding)
        if file_path.suffix.lower() in _MARKDOWN_SUFFIXES:
            return cls.from_markdown(text, id=id, title=file_path.name)
        return cls.from_text(text, id=id, title=file_path.name)

    def spans(
        self,
        unit: Unit,
        *,
        chunk_size: int = 1000,
        page_break: str | re.Pattern[str] = DEFAULT_PAGE_BREAK,
    ) -> list[tuple[int, int]]:
        """Return the `(start, end)` character offsets of each location of `unit`."""
        if unit == "document":
            return [(0, len(self.text))]
        if unit == "line":
            return _line_spans(self.text)
        if unit == "paragraph":
            return _paragraph_spans(self.text)
        if unit == "page":
            return _page_spans(self.text, page_break)
        if unit == "chunk":
            return _chunk_spans(self.text, chunk_size)
        raise ValueError(
            f"unknown unit {unit!r}: use one of 'document', 'line', 'paragraph', 'page', 'chunk'"
        )

    def heading_path(self, offset: int) -> str:
        """Return the Markdown heading path (`"Setup > Linux"`) of the text before `offset`."""
        position = bisect.bisect_left(self._heading_offsets, offset)
        return self._heading_paths[position - 1] if position else ""

    def _index_headings(self) -> None:
        stack: list[tuple[int, str]] = []
        for offset, level, name in self.headings:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name))
            self._heading_offsets.append(offset)
            self._heading_paths.append(" > ".join(title for _, title in stack))


def _inside(offset: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in spans)


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            break
        spans.append((start, end))
        start = end + 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _stripped(text: str, start: int, end: int) -> tuple[int, int] | None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right <= left:
        return None
    return (start + left, start + right)


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _BLANK_LINES.finditer(text):
        span = _stripped(text, start, match.start())
        if span:
            spans.append(span)
        start = match.end()
    span = _stripped(text, start, len(text))
    if span:
        spans.append(span)
    return spans


def _page_spans(text: str, page_break: str | re.Pattern[str]) -> list[tuple[int, int]]:
    pattern = (
        page_break if isinstance(page_break, re.Pattern) else re.compile(re.escape(page_break))
    )
    spans = []
    start = 0
    for match in pattern.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _chunk_spans(text: str, chunk_size: int) -> list[tuple[int, int]]:
    if chunk_size < 1:
        raise ValueError(f"invalid chunk_size {chunk_size}: use a positive number of characters")
    spans = []
    start = 0
    while start < len(text):
        end = min(start + chunk_size, len(text))
        if end < len(text):
            # cut after the last whitespace in the second half, so words stay whole
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            if cut > start + chunk_size // 2:
                end = cut + 1
        spans.append((start, end))
        start = end
    return spans


class Corpus:
    """A set of documents split into numbered, addressable locations.

    Args:
        documents: the documents, in citation order. Ids must be unique.
        unit: how each document is split; see the module docstring for the id forms.
        chunk_size: characters per chunk when `unit="chunk"`.
        page_break: a string or compiled pattern that separates pages when `unit="page"`.

    Examples:
        >>> corpus = Corpus.from_texts(["Revenue grew 5%.", "Costs fell.", "Staff rose."])
        >>> len(corpus), corpus.resolve(2).text
        (3, 'Costs fell.')
    """

    def __init__(
        self,
        documents: Iterable[Document],
        *,
        unit: Unit = "document",
        chunk_size: int = 1000,
        page_break: str | re.Pattern[str] = DEFAULT_PAGE_BREAK,
    ) -> None:
        self.documents: tuple[Document, ...] = tuple(documents)
        self.unit: Unit = unit
        self.chunk_size = chunk_size
        self.page_break = page_break
        self._by_document_id: dict[str, int] = {}
        for position, document in enumerate(self.documents):
            if document.id in self._by_document_id:
                raise ValueError(
                    f"duplicate document id {document.id!r}: give each document a unique id"
                )
            self._by_document_id[document.id] = position
        self._spans = [
            document.spans(unit, chunk_size=chunk_size, page_break=page_break)
            for document in self.documents
        ]
        # _first_numbers[i] is the corpus number of document i's first location
        self._first_numbers: list[int] = []
        total = 1
        for spans in self._spans:
            self._first_numbers.append(total)
            total += len(spans)
        self._count = total - 1
        self._locations: list[Location] | None = None

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        *,
        unit: Unit = "document",
        ids: Sequence[str] | None = None,
        markdown: bool = False,
        chunk_size: int = 1000,
    ) -> Corpus:
        """Build a corpus from strings, with ids `doc1`, `doc2`, ... unless `ids` is given."""
        names = list(ids) if ids is not None else [f"doc{i}" for i in range(1, len(texts) + 1)]
        if len(names) != len(texts):
            raise ValueError(f"got {len(names)} ids for {len(texts)} texts: give one id per text")
        make = Document.from_markdown if markdown else Document.from_text
        documents = [make(text, id=name) for name, text in zip(names, texts, strict=True)]
        return cls(documents, unit=unit, chunk_size=chunk_size)

    @classmethod
    def from_files(
        cls,
        paths: Sequence[str | Path],
        *,
        unit: Unit = "document",
        ids: Sequence[str] | None = None,
        chunk_size: int = 1000,
    ) -> Corpus:
        """Read files into a corpus, with ids `doc1`, `doc2`, ... unless `ids` is given."""
        names = list(ids) if ids is not None else [f"doc{i}" for i in range(1, len(paths) + 1)]
        if len(names) != len(paths):
            raise ValueError(f"got {len(names)} ids for {len(paths)} paths: give one id per path")
        documents = [
            Document.from_file(path, id=name) for name, path in zip(names, paths, strict=True)
        ]
        return cls(documents, unit=unit, chunk_size=chunk_size)

    def with_unit(self, unit: Unit, *, chunk_size: int | None = None) -> Corpus:
        """Return the same documents split into another unit."""
        size = self.chunk_size if chunk_size is None else chunk_size
        return Corpus(self.documents, unit=unit, chunk_size=size, page_break=self.page_break)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Location]:
        return iter(self.locations)

    @property
    def locations(self) -> list[Location]:
        """All locations in corpus order (built on first use, then reused)."""
        if self._locations is None:
            self._locations = [self.location(number) for number in range(1, self._count + 1)]
        return list(self._locations)

    def location(self, number: int) -> Location:
        """Return the location with corpus number `number` (1-based).

        Raises:
            IndexError: when no location has that number.
        """
        if not 1 <= number <= self._count:
            raise IndexError(f"location {number} does not exist ({self._count} locations)")
        position = bisect.bisect_right(self._first_numbers, number) - 1
        return self._make_location(position, number - self._first_numbers[position] + 1)

    def resolve(self, label: str | int) -> Location | None:
        """Return the location a citation label names, or `None` when it names nothing.

        `label` is a corpus number (`3` or `"3"`) or a location id (`"doc2:L14"`,
        `"doc2"` when the unit is `document`).
        """
        if isinstance(label, int) or label.isdigit():
            number = int(label)
            return self.location(number) if 1 <= number <= self._count else None
        match = _LOCATION_ID.match(label)
        if match is None:
            return None
        document_id, prefix, index = match.groups()
        position = self._by_document_id.get(document_id)
        if position is None:
            return None
        if prefix is None:
            return self._make_location(position, 1) if self.unit == "document" else None
        if _PREFIX_UNITS[prefix] != self.unit or not 1 <= int(index) <= len(self._spans[position]):
            return None
        return self._make_location(position, int(index))

    def describe_miss(self, label: str) -> str:
        """Explain why `label` resolves to nothing, for failure messages."""
        match = _LOCATION_ID.match(label)
        if label.isdigit() or match is None:
            return f"{self._count} sources"
        document_id, prefix, _ = match.groups()
        position = self._by_document_id.get(document_id)
        if position is None:
            known = ", ".join(self._by_document_id) or "none"
            return f"no document {document_id!r}; documents: {known}"
        if prefix is None or _PREFIX_UNITS[prefix] != self.unit:
            return f"the corpus is split by {self.unit}"
        return f"{document_id} has {len(self._spans[position])} {self.unit}s"

    def _make_location(self, position: int, index: int) -> Location:
        document = self.documents[position]
        start, end = self._spans[position][index - 1]
        if self.unit == "document":
            location_id = document.id
        else:
            location_id = f"{document.id}:{_UNIT_PREFIXES[self.unit]}{index}"
        return Location(
            id=location_id,
            document_id=document.id,
            unit=self.unit,
            index=index,
            number=self._first_numbers[position] + index - 1,
            start=start,
            end=end,
            text=document.text[start:end],
            context=document.heading_path(start),
        )


def render_prompt(
    corpus: Corpus,
    *,
    style: str = NUMBER_STYLE,
    question: str | None = None,
    instructions: str | None = None,
    locations: Sequence[Location] | None = None,
    with_context: bool = True,
) -> str:
    """Render sources with a location marker before each, ready to send as a prompt.

    Args:
        corpus: the sources.
        style: a marker template with the fields `{id}` (`doc2:L14`) and `{n}` (the
            corpus number); `ID_STYLE`, `NUMBER_STYLE` and `LENTICULAR_STYLE` give
            `[doc2:L14]`, `[3]` and `【3】`.
        question: appended after the sources as `Question: ...` when given.
        instructions: put before the sources when given.
        locations: a subset to render (for example retrieved chunks); all by default.
        with_context: put the Markdown heading path in brackets after each marker.

    Returns:
        The prompt text. Blank locations are left out.
    """
    chosen = corpus.locations if locations is None else list(locations)
    separator = "\n" if corpus.unit == "line" else "\n\n"
    parts: list[str] = []
    if instructions:
        parts.append(instructions.strip() + "\n\n")
    current_document = None
    for location in chosen:
        if not location.text.strip():
            continue
        if corpus.unit != "document" and location.document_id != current_document:
            document = corpus.documents[corpus._by_document_id[location.document_id]]
            heading = f"Document {document.id}" + (f": {document.title}" if document.title else "")
            parts.append(("\n" if current_document else "") + heading + "\n")
            current_document = location.document_id
        marker = style.format(id=location.id, n=location.number)
        context = f"({location.context}) " if with_context and location.context else ""
        parts.append(f"{marker} {context}{location.text}{separator}")
    text = "".join(parts).rstrip("\n")
    if question:
        text += f"\n\nQuestion: {question.strip()}"
    return text

"""Text normalisation, sentence splitting and token helpers shared by the assertions."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "STOPWORDS",
    "Sentence",
    "content_words",
    "names_in",
    "normalize",
    "numbers_in",
    "shorten",
    "split_sentences",
    "words",
]

_PUNCTUATION = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?![\d])")
_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")
_SENTENCE_END = re.compile(
    r"[.!?]+[\"\u201d\u2019')\]]*"
    r"(?:[ \t]*(?:\[[^\]\n]{1,40}\]|\u3010[^\u3011\n]{1,60}\u3011|\^\[[^\]\n]{1,40}\]))*[.!?]*"
    r"(?=[ \t]+[^a-z \t]|[ \t]*$)",
    re.M,
)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    may might must shall per via yes within without upon among including according says said
    """.split()
)


@dataclass(frozen=True)
class Sentence:
    """A sentence of an answer with its character offsets."""

    text: str
    start: int
    end: int


@functools.lru_cache(maxsize=256)
def normalize(text: str, ignore_case: bool = True) -> str:
    """Apply NFKC, straighten curly quotes, turn dashes into `-` and collapse whitespace."""
    if not text.isascii():  # NFKC and the punctuation table change nothing in ASCII text
        text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)
    text = " ".join(text.split())
    return text.casefold() if ignore_case else text


def words(text: str) -> list[str]:
    """Return the casefolded words of `text` (letters and digits, inner `'.-` kept)."""
    return _WORD.findall(normalize(text))


def content_words(text: str) -> set[str]:
    """Return the words of `text` that are not stopwords."""
    return {word for word in words(text) if word not in STOPWORDS}


def _normalize_number(number: str) -> str:
    number = number.replace(",", "").lstrip("+")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    negative = number.startswith("-")
    digits = number.lstrip("-").lstrip("0") or "0"
    if digits.startswith("."):
        digits = "0" + digits
    return ("-" if negative and digits != "0" else "") + digits


def numbers_in(text: str) -> set[str]:
    """Return the numbers in `text`, normalised: `1,000` and `1000.0` both give `1000`.

    A percent sign or currency symbol is not part of the number, so `12%` gives `12`.
    """
    return {_normalize_number(match) for match in _NUMBER.findall(normalize(text))}


def names_in(sentence: str) -> list[str]:
    """Return capitalised words that do not start the sentence (likely names)."""
    found = []
    for match in _CAPITALISED.finditer(sentence):
        before = sentence[: match.start()].rstrip(" \t\"'(\u201c\u2018*_")
        if not before or before[-1] in ".!?:\n-":
            continue  # the first word of a sentence, clause or list item
        word = match.group(0).strip("'-")
        if len(word) > 1 and word.casefold() not in STOPWORDS:
            found.append(word)
    return found


def split_sentences(text: str) -> list[Sentence]:
    """Split text into sentences, line by line, keeping trailing citation markers attached."""
    sentences: list[Sentence] = []
    line_start = 0
    for line in text.split("\n"):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            _add_sentence(sentences, line, line_start, start, match.end())
            start = match.end()
        _add_sentence(sentences, line, line_start, start, len(line))
        line_start += len(line) + 1
    return sentences


def _add_sentence(sentences: list[Sentence], line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if stripped:
        left = start + len(piece) - len(piece.lstrip())
        sentences.append(Sentence(stripped, offset + left, offset + left + len(stripped)))


def shorten(text: str, limit: int = 160) -> str:
    """Return `text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"

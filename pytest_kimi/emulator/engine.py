"""The emulator's deterministic default answers.

The emulator is not a model. When no script matches, it answers by rules
that make example tests meaningful and repeatable:
- a tool result in the last message is reported back as the answer;
- with tools offered, the tool whose name and description share the most
  words with the question is called, with arguments read from the question;
- a JSON response format gets an object filled from the context;
- simple arithmetic (`17 * 23`) is computed;
- otherwise the context line that shares the most rare words with the
  question is quoted, with its location marker as the citation;
- with no supporting line, the answer says the context does not contain it.
Images made by `pytest_kimi.media.generators` carry their ground truth in a
PNG text chunk; the emulator reads that text, since it cannot see pixels.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Completion", "default_completion", "message_text"]

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_MARKER = re.compile(r"^\s*(\[[^\]\s]{1,40}\]|【[^】]{1,40}】)\s*")
_ARITHMETIC = re.compile(r"(-?\d+(?:\.\d+)?)\s*([+\-*/x×])\s*(-?\d+(?:\.\d+)?)")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z][\w ]{0,30}?)\s*:\s*(\S.*)$")
_STOPWORDS = frozenset(
    "a an and are as at be by can could did do does for from has have how i in is it its "
    "me my of on or our please reply say tell that the their there this to was we what "
    "when where which who why will with you your according document text context answer "
    "question only just give return word words line lines sentence using use based".split()
)

TruthReader = Callable[[Mapping[str, Any]], "list[str]"]


@dataclass
class Completion:
    """One emulated completion before rendering."""

    content: str | None
    reasoning: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: dict[str, int] | None = None


def message_text(message: Mapping[str, Any]) -> str:
    """Return the text of a message, joining text parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return ""


def _words(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(text.lower()):
        word = word.strip("'-")
        if word and word not in _STOPWORDS:
            words.append(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return words


def _question(messages: list[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            text = message_text(message).strip()
            questions = [line for line in text.splitlines() if line.strip().endswith("?")]
            return questions[-1].strip() if questions else text
    return ""


def _context_lines(
    messages: list[Mapping[str, Any]], question: str, truth_reader: TruthReader | None
) -> list[str]:
    lines: list[str] = []
    for message in messages:
        if message.get("role") not in ("system", "user"):
            continue
        for line in message_text(message).splitlines():
            if line.strip() and line.strip() != question and len(_words(line)) >= 2:
                lines.append(line.strip())
        if truth_reader is not None:
            lines.extend(truth_reader(message))
    return lines


def _best_line(lines: list[str], question: str) -> tuple[str | None, float]:
    wanted = set(_words(question))
    if not wanted or not lines:
        return None, 0.0
    frequency: Counter[str] = Counter()
    for line in lines:
        frequency.update(set(_words(line)))
    best, best_score = None, 0.0
    for line in lines:
        shared = wanted & set(_words(line))
        score = sum(1.0 / math.log(1.0 + frequency[word]) for word in shared)
        if score > best_score:
            best, best_score = line, score
    return best, best_score


def _extractive_answer(line: str) -> str:
    marker = _MARKER.match(line)
    if marker:
        text = line[marker.end() :].strip()
        return f'According to the context, "{text}" {marker.group(1)}'
    return f'According to the context, "{line}"'


def _arithmetic(question: str) -> str | None:
    found = _ARITHMETIC.search(question)
    if not found:
        return None
    left, operator, right = float(found.group(1)), found.group(2), float(found.group(3))
    if operator == "/" and right == 0:
        return None
    result = {
        "+": left + right,
        "-": left - right,
        "*": left * right,
        "x": left * right,
        "×": left * right,
        "/": left / right if right else 0.0,
    }[operator]
    return str(int(result)) if float(result).is_integer() else f"{result:.4g}"


def _tool_words(tool: Mapping[str, Any]) -> set[str]:
    function = tool.get("function") or {}
    name = str(function.get("name", "")).replace("_", " ").replace("-", " ")
    return set(_words(f"{name} {function.get('description', '')}"))


def _argument_value(name: str, schema: Mapping[str, Any], question: str) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        for option in schema["enum"]:
            if str(option).lower() in question.lower():
                return option
        return schema["enum"][0]
    if kind in ("integer", "number"):
        number = re.search(r"-?\d+(?:\.\d+)?", question)
        value = float(number.group()) if number else 0
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    quoted = re.search(r"[\"“']([^\"”']+)[\"”']", question)
    if quoted:
        return quoted.group(1)
    labelled = re.search(rf"{re.escape(name)}\s*[:=]\s*([\w .\-]+)", question, re.IGNORECASE)
    if labelled:
        return labelled.group(1).strip()
    names = re.findall(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*)", question)
    if names:
        return names[0]
    words = _words(question)
    return words[-1] if words else ""


def _tool_call(tool: Mapping[str, Any], question: str, index: int) -> dict[str, Any]:
    function = tool.get("function") or {}
    name = str(function.get("name"))
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") or {}
    required = parameters.get("required") or list(properties)
    arguments = {key: _argument_value(key, properties.get(key, {}), question) for key in required}
    # Kimi's native tool-call id form, as vLLM's kimi_k2 parser surfaces it.
    return {"id": f"functions.{name}:{index}", "name": name, "arguments": json.dumps(arguments)}


def _tool_result_answer(messages: list[Mapping[str, Any]]) -> str:
    result = messages[-1]
    call_id = result.get("tool_call_id")
    name = "the tool"
    for message in messages:
        for call in message.get("tool_calls") or []:
            if call.get("id") == call_id:
                name = (call.get("function") or {}).get("name", name)
    content = message_text(result)
    try:
        value = json.loads(content)
    except json.JSONDecodeError:
        return f"{name} returned: {content}"
    if isinstance(value, Mapping):
        listed = ", ".join(f"{key} = {json.dumps(item)}" for key, item in value.items())
        return f"{name} returned {listed}."
    return f"{name} returned {json.dumps(value)}."


def _json_answer(body: Mapping[str, Any], lines: list[str], question: str) -> str:
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    properties = schema.get("properties") or {}
    if not properties:
        pairs = {}
        for line in lines:
            found = _KEY_VALUE.match(line)
            if found:
                pairs[found.group(1).strip().lower().replace(" ", "_")] = _scalar(found.group(2))
        if pairs:
            return json.dumps(pairs)
        best, _ = _best_line(lines, question)
        return json.dumps({"answer": best or "not in the context"})
    context = "\n".join(lines)
    result: dict[str, Any] = {}
    for key, spec in properties.items():
        pattern = rf"{re.escape(key)}\s*[:=]\s*(.+)"
        found = re.search(pattern, context, re.IGNORECASE)
        raw = found.group(1).strip().rstrip(".") if found else ""
        result[key] = _coerce(raw, spec if isinstance(spec, Mapping) else {})
    return json.dumps(result)


def _scalar(raw: str) -> Any:
    text = raw.strip().rstrip(".")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _coerce(raw: str, spec: Mapping[str, Any]) -> Any:
    kind = spec.get("type")
    if kind in ("integer", "number"):
        number = re.search(r"-?\d+(?:\.\d+)?", raw.replace(",", ""))
        if not number:
            return 0
        return int(float(number.group())) if kind == "integer" else float(number.group())
    if kind == "boolean":
        return raw.lower() in ("yes", "true", "1")
    if kind == "array":
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def default_completion(
    body: Mapping[str, Any], *, thinking: bool, truth_reader: TruthReader | None = None
) -> Completion:
    """Answer `body` by the rules in the module docstring."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping)]
    question = _question(messages)
    topic = ", ".join(dict.fromkeys(_words(question)).keys()) or "nothing in particular"
    reasoning = f"[pytest-kimi emulator] The question is about: {topic}."

    if messages and messages[-1].get("role") == "tool":
        return Completion(_tool_result_answer(messages), reasoning + " A tool result arrived.")

    tools = [t for t in body.get("tools") or [] if isinstance(t, Mapping)]
    if tools and body.get("tool_choice") != "none":
        wanted = set(_words(question))
        scored = sorted(tools, key=lambda t: -len(wanted & _tool_words(t)))
        if wanted & _tool_words(scored[0]):
            index = sum(len(m.get("tool_calls") or []) for m in messages)
            call = _tool_call(scored[0], question, index)
            return Completion(
                "", reasoning + f" Calling {call['name']}.", [call], finish_reason="tool_calls"
            )

    lines = _context_lines(messages, question, truth_reader)
    response_format = body.get("response_format") or {}
    if response_format.get("type") in ("json_object", "json_schema"):
        return Completion(_json_answer(body, lines, question), reasoning + " Answering in JSON.")

    computed = _arithmetic(question)
    if computed is not None and not lines:
        return Completion(computed, reasoning + f" Computed {computed}.")

    line, score = _best_line(lines, question)
    if line is None:
        return Completion(
            "The provided context does not contain this information.",
            reasoning + " No context line supports an answer.",
        )
    return Completion(
        _extractive_answer(line),
        reasoning + f" The best supporting line scores {score:.2f}.",
    )

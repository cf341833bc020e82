"""Take JSON out of model output and validate it, and tool-call arguments, against JSON Schema.

Two modes:

- strict (the right default when the request set `response_format`): the whole
  output, apart from surrounding whitespace, must be one JSON value. A reply wrapped
  in a Markdown code fence fails with `output is not raw JSON (code fence)`.
- lenient: take the raw JSON, else the first ```` ```json ```` fence (or an unlabelled
  fence whose body parses), else the first balanced JSON object or array in the text.
  A fence labelled with another language (```` ```bash ````) is never read as JSON,
  and nothing inside it is taken as embedded JSON either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema

from pytest_kimi.grounding.errors import JSONExtractionError, SchemaMismatchError, ToolCallError

__all__ = [
    "ExtractedJSON",
    "JSON_FENCE_LANGUAGES",
    "assert_matches_schema",
    "assert_tool_calls_valid",
    "extract_json",
]

JSON_FENCE_LANGUAGES = frozenset({"json", "jsonc", "json5"})
_RAW_PREVIEW = 200
_FENCE = re.compile(
    r"^[ \t]{0,3}(?P<tick>`{3,}|~{3,})[ \t]*(?P<language>[^\s`~]*)[^\n]*\n"
    r"(?P<body>.*?)(?:^[ \t]{0,3}(?P=tick)[ \t]*$|\Z)",
    re.M | re.S,
)
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class ExtractedJSON:
    """A JSON value taken from model output.

    Attributes:
        value: the parsed value.
        how: `raw` (the whole output), `fence` (a code fence) or `embedded` (found in text).
        note: what was taken and what was skipped, for failure messages.
        raw: the full output text.
    """

    value: Any
    how: Literal["raw", "fence", "embedded"]
    note: str
    raw: str


def _preview(raw: str) -> str:
    return f"raw output (first {_RAW_PREVIEW} characters): {raw[:_RAW_PREVIEW]!r}"


def _loads(text: str) -> tuple[Any, str | None]:
    """Parse `text` as JSON, returning `(value, None)` or `(None, reason)`."""
    try:
        return json.loads(text), None
    except ValueError as exc:  # JSONDecodeError, or an integer over the digit limit
        return None, str(exc)
    except RecursionError:
        return None, "nested too deeply to parse"


def extract_json(text: str, *, strict: bool = True) -> ExtractedJSON:
    """Take a JSON value out of model output.

    Args:
        text: the model's output.
        strict: demand raw JSON; see the module docstring for both modes.

    Returns:
        The value and how it was found.

    Raises:
        JSONExtractionError: the only exception raised, for any input. In strict mode,
            the message starts with `output is not raw JSON (...)` naming the cause.
    """
    __tracebackhide__ = True
    value, error = _loads(text)
    if error is None:
        return ExtractedJSON(value, "raw", "the whole output is JSON", text)
    if strict:
        cause = "code fence" if _FENCE.search(text) else f"invalid JSON: {error}"
        if not text.strip():
            cause = "empty output"
        raise JSONExtractionError(f"output is not raw JSON ({cause}). {_preview(text)}")
    found = _from_fences(text)
    if found is not None:
        return found
    found = _embedded(text)
    if found is not None:
        return found
    raise JSONExtractionError(
        f"no JSON object or array found in the output ({error}). {_preview(text)}"
    )


def _from_fences(text: str) -> ExtractedJSON | None:
    skipped = []
    for match in _FENCE.finditer(text):
        language = match.group("language").lower()
        if language and language not in JSON_FENCE_LANGUAGES:
            skipped.append(language)
            continue
        value, error = _loads(match.group("body"))
        if error is None:
            label = f"```{language}" if language else "an unlabelled"
            note = f"took the JSON from {label} code fence"
            if skipped:
                note += f", skipped fences labelled {', '.join(skipped)}"
            return ExtractedJSON(value, "fence", note, text)
    return None


def _embedded(text: str) -> ExtractedJSON | None:
    masked = text
    fences = [(m.start(), m.end(), m.group("language")) for m in _FENCE.finditer(text)]
    for start, end, _ in fences:
        masked = masked[:start] + " " * (end - start) + masked[end:]
    for match in re.finditer(r"[{\[]", masked):
        try:
            value, _ = _DECODER.raw_decode(masked, match.start())
        except (ValueError, RecursionError):
            continue
        if isinstance(value, (dict, list)):
            kind = "object" if isinstance(value, dict) else "array"
            note = f"took the JSON {kind} at offset {match.start()}"
            if fences:
                labels = ", ".join(language or "unlabelled" for _, _, language in fences)
                note += f", skipped code fences ({labels})"
            return ExtractedJSON(value, "embedded", note, text)
    return None


def _pointer(path: Sequence[Any]) -> str:
    if not path:
        return "(root)"
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _describe_error(error: jsonschema.ValidationError) -> str:
    message = error.message
    python_repr = repr(error.instance)
    if message.startswith(python_repr):
        try:
            message = json.dumps(error.instance) + message[len(python_repr) :]
        except (TypeError, ValueError):
            pass
    return f"{_pointer(list(error.absolute_path))}: {message} (rule: {error.validator})"


def _schema_errors(value: Any, schema: Mapping[str, Any]) -> list[str]:
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    try:
        validator_class.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        raise ValueError(f"invalid JSON Schema: {exc.message}; fix the schema") from exc
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(value), key=lambda e: _pointer(list(e.absolute_path)))
    return [_describe_error(error) for error in errors]


def assert_matches_schema(
    value_or_text: Any, schema: Mapping[str, Any], *, strict: bool = True
) -> Any:
    """Assert that a JSON value, or the JSON in model output, matches a JSON Schema.

    The schema's `$schema` picks the draft; Draft 2020-12 is the default. `format`
    keywords are checked.

    Args:
        value_or_text: a `str` is read as model output and parsed with `extract_json`;
            an `ExtractedJSON` is used as it is; anything else is the value itself.
        schema: the JSON Schema.
        strict: the `extract_json` mode for string input.

    Returns:
        The validated value.

    Raises:
        JSONExtractionError: when no JSON can be taken from string input.
        SchemaMismatchError: listing every error with its JSON pointer (`/cores`), the
            value and the rule, then the first 200 characters of the raw output.
        ValueError: when the schema itself is invalid.
    """
    __tracebackhide__ = True
    if isinstance(value_or_text, str):
        value_or_text = extract_json(value_or_text, strict=strict)
    if isinstance(value_or_text, ExtractedJSON):
        value, raw, note = value_or_text.value, value_or_text.raw, f" ({value_or_text.note})"
    else:
        value, raw, note = value_or_text, json.dumps(value_or_text, default=repr), ""
    problems = _schema_errors(value, schema)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise SchemaMismatchError(
            f"JSON does not match the schema{note}, {len(problems)} error(s):\n{lines}\n"
            f"{_preview(raw)}"
        )
    return value


def _tool_schemas(tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    schemas: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        function = tool.get("function", tool)
        name = function.get("name")
        if not isinstance(name, str):
            raise ValueError(f"tool definition without a name: {tool!r}")
        schemas[name] = function.get("parameters") or function.get("input_schema") or {}
    return schemas


def _call_fields(call: Any) -> tuple[str, str, Any]:
    if isinstance(call, Mapping):
        function = call.get("function", call)
        return str(call.get("id", "")), str(function.get("name", "")), function.get("arguments")
    return str(getattr(call, "id", "")), str(call.name), call.arguments


def assert_tool_calls_valid(
    tool_calls: Sequence[Any], tools: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Assert that every tool call names a defined tool and its arguments match its schema.

    Args:
        tool_calls: objects with `.id`, `.name` and `.arguments` (a JSON string), such as
            `pytest_kimi.client.reply.ToolCall`, or dicts in the OpenAI shape
            `{"id": ..., "function": {"name": ..., "arguments": "..."}}`. Arguments that
            are already a dict are used as they are; an empty string counts as `{}`.
        tools: the tool definitions sent with the request, in the OpenAI shape
            `{"type": "function", "function": {"name": ..., "parameters": {...}}}`
            or flattened `{"name": ..., "parameters": {...}}`.

    Returns:
        The parsed arguments of each call, in order.

    Raises:
        ToolCallError: listing unknown tool names, arguments that are not valid JSON,
            and every schema error with its JSON pointer.
    """
    __tracebackhide__ = True
    schemas = _tool_schemas(tools)
    parsed: list[Any] = []
    problems: list[str] = []
    for call in tool_calls:
        call_id, name, arguments = _call_fields(call)
        label = f"tool call {call_id!r} ({name})"
        if isinstance(arguments, str):
            value, error = _loads(arguments) if arguments.strip() else ({}, None)
            if error is not None:
                problems.append(
                    f"{label}: arguments are not valid JSON ({error}): {arguments[:200]!r}"
                )
                parsed.append(None)
                continue
        else:
            value = arguments if arguments is not None else {}
        parsed.append(value)
        if name not in schemas:
            problems.append(f"{label}: unknown tool; defined tools: {', '.join(schemas) or 'none'}")
            continue
        problems.extend(f"{label}: {problem}" for problem in _schema_errors(value, schemas[name]))
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ToolCallError(
            f"{len(problems)} problem(s) in {len(tool_calls)} tool call(s):\n{lines}"
        )
    return parsed

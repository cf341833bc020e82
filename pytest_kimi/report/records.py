"""The JSON run report format, `pytest-kimi-report/1`.

A report is one JSON object:

- `format`: `pytest-kimi-report/1`.
- `header`: `plugin_version`, `created` (UTC, ISO 8601), `routes` (one entry per
  route with `route`, `flavor`, `model`, `emulated`) and `notice`, a sentence that
  emulator output is not Kimi K2.6 output when any route is emulated, else `null`.
- `calls`: one record per model call, in test order (see `call_record`).
- `tests`: one record per test with `test_id`, `route`, `mode`, `outcome`, `duration_s`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from pytest_kimi.client.reply import Reply
from pytest_kimi.snapshot.record import plugin_version

__all__ = [
    "EMULATED_NOTICE",
    "IMAGE_URL_MAX_CHARS",
    "REPORT_FORMAT",
    "build_report",
    "call_record",
    "image_urls",
    "load_report",
    "write_report",
]

REPORT_FORMAT = "pytest-kimi-report/1"

# Data URLs longer than this are replaced by a note, to keep reports small enough to open.
IMAGE_URL_MAX_CHARS = 200_000

EMULATED_NOTICE = (
    "Routes served by the pytest-kimi emulator ({routes}): their output is not Kimi K2.6 output."
)


def call_record(
    reply: Reply, test_id: str, verdicts: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Return the report record of one model call; `outcome` is filled in later."""
    usage = reply.usage.as_dict()
    return {
        "content": reply.content,
        "emulated": reply.emulated,
        "finish_reason": reply.finish_reason,
        "flavor": reply.flavor,
        "images": image_urls(reply.request),
        "mode": reply.mode,
        "model": reply.model,
        "outcome": None,
        "reasoning_chars": len(reply.reasoning) if reply.reasoning is not None else None,
        "route": reply.route,
        "snapshot_verdicts": [dict(verdict) for verdict in verdicts],
        "test_id": test_id,
        "timings": {
            "attempts": reply.timings.attempts,
            "output_tokens_per_s": reply.timings.output_tokens_per_s,
            "time_to_first_token_s": reply.timings.time_to_first_token_s,
            "total_s": reply.timings.total_s,
        },
        "tool_calls": [
            {"arguments": call.arguments, "id": call.id, "name": call.name}
            for call in reply.tool_calls
        ],
        "usage": usage,
    }


def image_urls(request: Mapping[str, Any], max_chars: int = IMAGE_URL_MAX_CHARS) -> list[str]:
    """Return the data URLs of the image parts in a request body, in message order.

    OpenAI-style `image_url` parts and Anthropic-style base64 `image` blocks are
    read. A URL longer than `max_chars`, or one that is not a data URL, is
    replaced by a short note so the report stays self-contained and bounded.
    """
    urls: list[str] = []
    for message in request.get("messages") or []:
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            continue
        for part in content:
            url = _image_part_url(part) if isinstance(part, Mapping) else None
            if url is not None:
                urls.append(_capped(url, max_chars))
    return urls


def _image_part_url(part: Mapping[str, Any]) -> str | None:
    if part.get("type") == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return url if isinstance(url, str) else None
    source = part.get("source")
    if part.get("type") == "image" and isinstance(source, Mapping):
        if source.get("type") == "base64":
            return f"data:{source.get('media_type')};base64,{source.get('data')}"
    return None


def _capped(url: str, max_chars: int) -> str:
    if not url.startswith("data:"):
        return f"(image by reference, not embedded: {url[:200]})"
    if len(url) > max_chars:
        return f"(image omitted: data URL of {len(url)} characters exceeds {max_chars})"
    return url


def build_report(
    calls: list[dict[str, Any]], tests: list[dict[str, Any]], created: datetime | None = None
) -> dict[str, Any]:
    """Return a complete report from call and test records."""
    routes: dict[tuple[str, str, str, bool], dict[str, Any]] = {}
    for call in calls:
        key = (call["route"], call["flavor"], call["model"], bool(call["emulated"]))
        routes.setdefault(
            key, {"emulated": key[3], "flavor": key[1], "model": key[2], "route": key[0]}
        )
    emulated = sorted({route["route"] for route in routes.values() if route["emulated"]})
    moment = created or datetime.now(UTC)
    return {
        "calls": calls,
        "format": REPORT_FORMAT,
        "header": {
            "created": moment.isoformat(timespec="seconds"),
            "notice": EMULATED_NOTICE.format(routes=", ".join(emulated)) if emulated else None,
            "plugin_version": plugin_version(),
            "routes": sorted(routes.values(), key=lambda r: (r["route"], r["model"])),
        },
        "tests": tests,
    }


def write_report(report: Mapping[str, Any], path: Path) -> None:
    """Write a report as indented UTF-8 JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def load_report(path: Path) -> dict[str, Any]:
    """Read a report and check its format.

    Raises:
        ValueError: the file is not JSON or not a `pytest-kimi-report/1` report.
    """
    try:
        report: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"report {str(path)!r} is not valid JSON ({exc})") from exc
    found = report.get("format") if isinstance(report, dict) else None
    if not isinstance(report, dict) or found != REPORT_FORMAT:
        raise ValueError(
            f"report {str(path)!r} has format {found!r}, expected {REPORT_FORMAT!r}; "
            "write it with pytest --kimi-report PATH"
        )
    problem = next(iter(_REPORT_VALIDATOR.iter_errors(report)), None)
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path) or "(root)"
        raise ValueError(
            f"report {str(path)!r} is not a valid {REPORT_FORMAT} report: at {where}, "
            f"{problem.message}. Write it again with pytest --kimi-report PATH"
        )
    return dict(report)


# The parts of a report that the review reads; other keys are allowed.
_REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "header", "calls", "tests"],
    "properties": {
        "header": {"type": "object"},
        "calls": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["test_id"],
                "properties": {"test_id": {"type": "string"}},
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["test_id", "outcome"],
                "properties": {"test_id": {"type": "string"}, "outcome": {"type": "string"}},
            },
        },
    },
}
_REPORT_VALIDATOR = jsonschema.Draft202012Validator(_REPORT_SCHEMA)

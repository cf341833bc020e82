"""Turn the ground truth embedded by the generators into text lines for the emulator.

The emulator cannot see pixels. Images made by `pytest_kimi.media.generators`
carry their ground truth as JSON in a PNG text chunk, and the emulator reads
those facts as if they were context lines. A real model gets the same image
and has to read the pixels; the text chunk does not help it answer.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

from pytest_kimi.media.generators import read_embedded_truth
from pytest_kimi.media.mime import decode_data_url

__all__ = ["truth_lines"]


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _chart_lines(truth: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    values: dict[str, float] = dict(truth.get("values") or {})
    noun = "bar" if truth["kind"] == "bar_chart" else "slice"
    for label, value in values.items():
        lines.append(f"The {label} {noun} in the chart has value {_number(value)}.")
    if values:
        largest = max(values, key=lambda label: values[label])
        smallest = min(values, key=lambda label: values[label])
        lines.append(
            f"The largest (tallest, biggest, highest) {noun} is {largest} "
            f"with value {_number(values[largest])}."
        )
        lines.append(
            f"The smallest (shortest, lowest) {noun} is {smallest} "
            f"with value {_number(values[smallest])}."
        )
    return lines


def _lines_for(truth: Mapping[str, Any]) -> list[str]:
    kind = truth.get("kind")
    title = truth.get("title")
    lines = [f"The image title is {title}."] if title else []
    if kind in ("bar_chart", "pie_chart"):
        lines += _chart_lines(truth)
    elif kind == "line_chart":
        labels = truth.get("x_labels") or []
        for name, points in (truth.get("series") or {}).items():
            for label, value in zip(labels, points, strict=False):
                lines.append(f"The {name} line in {label} has value {_number(value)}.")
    elif kind == "form_screenshot":
        for label, value in (truth.get("fields") or {}).items():
            lines.append(f"The form field {label} contains {value}.")
        buttons = truth.get("buttons") or []
        if buttons:
            lines.append(f"The form buttons are {', '.join(buttons)}.")
    elif kind == "table_image":
        header = truth.get("header") or []
        for row in truth.get("rows") or []:
            cells = [
                f"{h} {c}" if h else str(c)
                for h, c in zip(header or [""] * len(row), row, strict=False)
            ]
            lines.append("Table row: " + ", ".join(cells) + ".")
    elif kind == "hidden_text_image":
        lines.append(
            f"The image shows the text {truth.get('text')} at the {truth.get('position')}."
        )
    return lines


def truth_lines(message: Mapping[str, Any]) -> list[str]:
    """Return context lines for every generated image in `message` (none for other images)."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    lines: list[str] = []
    for part in content:
        if not isinstance(part, Mapping) or part.get("type") != "image_url":
            continue
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if not isinstance(url, str) or not url.startswith("data:image/png"):
            continue
        try:
            _, data = decode_data_url(url)
        except (ValueError, binascii.Error):
            continue
        truth = read_embedded_truth(data)
        if isinstance(truth, Mapping):
            lines.extend(_lines_for(truth))
    return lines

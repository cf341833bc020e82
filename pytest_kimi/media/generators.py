"""Known-answer images: charts, forms, tables and hidden text with their ground truth.

Every generator is deterministic: the same arguments and seed give a byte-identical PNG
with the same Pillow version. The seed picks the default data and the colour order.

Each PNG also carries its ground truth as JSON in a ``tEXt``/``iTXt`` chunk named
``pytest-kimi:truth``. The local emulator cannot see images, so it reads this chunk with
``read_embedded_truth`` to answer known-answer questions about an image it received. A
real model never reads the chunk as text, because the API decodes the PNG into pixels.
Re-encoding the image (for example with ``image_part(..., format="jpeg")``) drops it.
"""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image, ImageDraw, PngImagePlugin

from pytest_kimi.media._drawing import (
    BACKGROUND,
    INK,
    Colour,
    font,
    hex_colour,
    nice_ceiling,
    shuffled_palette,
    text_box,
    text_size,
)
from pytest_kimi.media.mime import encode_data_url
from pytest_kimi.media.parts import ContentPart, Detail, image_url_part

__all__ = [
    "TRUTH_CHUNK",
    "Generated",
    "Position",
    "bar_chart",
    "form_screenshot",
    "hidden_text_image",
    "line_chart",
    "pie_chart",
    "read_embedded_truth",
    "table_image",
]

#: Keyword of the PNG text chunk that stores the ground truth as JSON.
TRUTH_CHUNK = "pytest-kimi:truth"

#: Placement of the text in ``hidden_text_image``: a named corner, the centre, or (x, y) px.
Position = (
    Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"] | tuple[int, int]
)

_PRODUCTS = ("apples", "pears", "plums", "figs", "limes", "dates", "kiwis", "mangos")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PEOPLE = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
_CITIES = ("London", "Paris", "Osaka", "Lima", "Nairobi", "Oslo")
_GRID: Colour = (190, 190, 190)
_FIELD_BORDER: Colour = (120, 120, 120)
_HEADER_FILL: Colour = (230, 230, 230)
_BUTTON_FILLS: tuple[Colour, Colour] = ((225, 225, 225), (31, 119, 180))


@dataclass(frozen=True)
class Generated:
    """A generated image, its ground truth and its PNG encoding with the truth embedded."""

    image: Image.Image
    truth: dict[str, Any]
    png: bytes = field(repr=False)

    def part(self, detail: Detail | None = None) -> ContentPart:
        """Return an ``image_url`` part carrying ``png`` unchanged, truth chunk included."""
        return image_url_part(encode_data_url("image/png", self.png), detail)


def read_embedded_truth(png: bytes) -> dict[str, Any] | None:
    """Return the ground truth stored in a PNG by a generator, or ``None`` if absent.

    Args:
        png: PNG file bytes, for example decoded from a request's data URL.

    Returns:
        The truth dictionary, or ``None`` when the bytes are not a PNG, have no
        ``pytest-kimi:truth`` chunk, or the chunk is not a JSON object.
    """
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    try:
        with Image.open(io.BytesIO(png)) as image:
            text = (
                image.text.get(TRUTH_CHUNK)
                if isinstance(image, PngImagePlugin.PngImageFile)
                else None
            )
    except OSError:
        return None
    if text is None:
        return None
    try:
        truth = json.loads(text)
    except json.JSONDecodeError:
        return None
    return truth if isinstance(truth, dict) else None


def _finish(image: Image.Image, truth: dict[str, Any]) -> Generated:
    # A JSON round trip makes ``truth`` equal to what read_embedded_truth returns.
    truth = json.loads(json.dumps({**truth, "size": list(image.size)}))
    info = PngImagePlugin.PngInfo()
    info.add_text(TRUTH_CHUNK, json.dumps(truth, separators=(",", ":")))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return Generated(image=image, truth=truth, png=buffer.getvalue())


def _default_values(seed: int, count: int = 5) -> dict[str, float]:
    rng = random.Random(seed)
    labels = rng.sample(_PRODUCTS, count)
    return {label: float(rng.randint(2, 20)) for label in labels}


def _check_values(values: Mapping[str, float], description: str) -> None:
    if not values:
        raise ValueError(f"invalid {description}: expected at least one label")
    negative = {label: value for label, value in values.items() if value < 0}
    if negative:
        raise ValueError(f"invalid {description} {negative!r}: values must be >= 0")
    if max(values.values()) <= 0:
        raise ValueError(f"invalid {description} {dict(values)!r}: at least one value must be > 0")


# --- charts -----------------------------------------------------------------------------


@dataclass
class _Frame:
    """Plot area of a chart, in pixels, and its value scale."""

    left: int
    top: int
    right: int
    baseline: int
    axis_max: float

    @property
    def pixels_per_unit(self) -> float:
        return (self.baseline - self.top) / self.axis_max

    def y_of(self, value: float) -> int:
        return self.baseline - round(value * self.pixels_per_unit)


def _chart_canvas(
    size: tuple[int, int], title: str, legend: bool, axis_max: float
) -> tuple[Image.Image, ImageDraw.ImageDraw, _Frame]:
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width, height = size
    title_width, _ = text_size(draw, title, font(16))
    text_box(draw, ((width - title_width) / 2, 8), title, font(16))
    frame = _Frame(56, 40, width - (130 if legend else 20), height - 40, axis_max)
    return image, draw, frame


def _draw_axes(draw: ImageDraw.ImageDraw, frame: _Frame) -> None:
    draw.line([(frame.left - 1, frame.top), (frame.left - 1, frame.baseline)], fill=INK)
    draw.line([(frame.left - 1, frame.baseline), (frame.right, frame.baseline)], fill=INK)
    for tick in (0.0, frame.axis_max / 2, frame.axis_max):
        y = frame.y_of(tick)
        draw.line([(frame.left - 6, y), (frame.left - 2, y)], fill=INK)
        label = f"{tick:g}"
        label_width, label_height = text_size(draw, label, font(11))
        text_box(draw, (frame.left - 9 - label_width, y - label_height / 2 - 2), label, font(11))


def _draw_legend(
    draw: ImageDraw.ImageDraw, frame: _Frame, entries: Sequence[tuple[str, Colour]]
) -> list[dict[str, Any]]:
    legend = []
    x = frame.right + 16
    for index, (label, colour) in enumerate(entries):
        y = frame.top + index * 22
        swatch = [x, y, x + 13, y + 13]
        draw.rectangle(swatch, fill=colour)
        box = text_box(draw, (x + 20, y - 1), label, font(12))
        legend.append({"label": label, "colour": hex_colour(colour), "swatch": swatch, "bbox": box})
    return legend


def bar_chart(
    values: Mapping[str, float] | None = None,
    *,
    seed: int = 0,
    hide_labels: bool = False,
    hide_legend: bool = False,
    title: str = "Sales by product",
    size: tuple[int, int] = (480, 320),
) -> Generated:
    """Draw a vertical bar chart with one solid colour per bar.

    Args:
        values: Bar label to value (>= 0). ``None`` picks five products and values
            from 2 to 20 with ``seed``.
        seed: Picks the default values and the colour order.
        hide_labels: Leave out the category labels under the bars.
        hide_legend: Leave out the legend on the right.
        title: Text drawn centred at the top.
        size: Image width and height in pixels.

    Returns:
        The chart. ``truth`` contains ``values``, ``max_label``, ``min_label``, ``axis``
        (``baseline_y``, ``top_y``, ``max``, ``pixels_per_unit``), and per bar its
        ``label``, ``value``, ``colour``, ``colour_name`` and ``bbox`` (x0, y0, x1, y1,
        inclusive). A bar's height in pixels is ``round(value * pixels_per_unit)``.
    """
    values = dict(values) if values is not None else _default_values(seed)
    _check_values(values, "bar chart values")
    colours = shuffled_palette(seed, len(values))
    image, draw, frame = _chart_canvas(
        size, title, not hide_legend, nice_ceiling(max(values.values()))
    )
    slot = (frame.right - frame.left) / len(values)
    bars = []
    for index, ((label, value), (colour_name, colour)) in enumerate(
        zip(values.items(), colours, strict=True)
    ):
        left = round(frame.left + index * slot + slot * 0.2)
        right = round(frame.left + (index + 1) * slot - slot * 0.2) - 1
        top = frame.y_of(value)
        bbox = [left, top, right, frame.baseline - 1]
        if top < frame.baseline:
            draw.rectangle(bbox, fill=colour)
        bar: dict[str, Any] = {"label": label, "value": value, "colour": hex_colour(colour)}
        bar.update(colour_name=colour_name, bbox=bbox)
        if not hide_labels:
            label_width, _ = text_size(draw, label, font(12))
            centre = (left + right) / 2
            bar["label_bbox"] = text_box(
                draw, (centre - label_width / 2, frame.baseline + 8), label, font(12)
            )
        bars.append(bar)
    _draw_axes(draw, frame)
    legend = (
        []
        if hide_legend
        else _draw_legend(
            draw, frame, [(b["label"], c) for b, (_, c) in zip(bars, colours, strict=True)]
        )
    )
    truth = {
        "kind": "bar_chart",
        "title": title,
        "values": values,
        "max_label": max(values, key=lambda key: values[key]),
        "min_label": min(values, key=lambda key: values[key]),
        "bars": bars,
        "axis": _axis_truth(frame),
        "labels_visible": not hide_labels,
        "legend": legend,
    }
    return _finish(image, truth)


def _axis_truth(frame: _Frame) -> dict[str, Any]:
    return {
        "baseline_y": frame.baseline,
        "top_y": frame.top,
        "max": frame.axis_max,
        "pixels_per_unit": frame.pixels_per_unit,
    }


def _default_series(seed: int) -> dict[str, list[float]]:
    # The two default series never cross, so their markers never overlap.
    rng = random.Random(seed)
    return {
        "visitors": [float(rng.randint(55, 90)) for _ in range(6)],
        "signups": [float(rng.randint(10, 45)) for _ in range(6)],
    }


def line_chart(
    series: Mapping[str, Sequence[float]] | None = None,
    *,
    x_labels: Sequence[str] | None = None,
    seed: int = 0,
    hide_labels: bool = False,
    hide_legend: bool = False,
    title: str = "Monthly traffic",
    size: tuple[int, int] = (480, 320),
) -> Generated:
    """Draw a line chart with a round marker (radius 4 px) on every data point.

    Args:
        series: Series name to its values (>= 0), all of the same length (at least 2).
            ``None`` picks two series of six values with ``seed``.
        x_labels: One label per point. ``None`` uses month names from ``Jan``.
        seed: Picks the default series and the colour order.
        hide_labels: Leave out the x-axis labels.
        hide_legend: Leave out the legend on the right.
        title: Text drawn centred at the top.
        size: Image width and height in pixels.

    Returns:
        The chart. ``truth`` contains ``series``, ``x_labels``, ``axis`` and per series its
        ``colour``, ``colour_name`` and ``points`` (``x_label``, ``value`` and the
        marker centre ``xy``).
    """
    series = {name: list(points) for name, points in (series or _default_series(seed)).items()}
    lengths = {len(points) for points in series.values()}
    if not series or len(lengths) != 1 or min(lengths) < 2:
        raise ValueError(
            f"invalid line chart series lengths {sorted(lengths)}: expected one length >= 2"
        )
    count = lengths.pop()
    labels = list(x_labels) if x_labels is not None else [_MONTHS[i % 12] for i in range(count)]
    if len(labels) != count:
        raise ValueError(f"invalid x_labels: expected {count} labels, got {len(labels)}")
    for name, points in series.items():
        _check_values(dict(zip(labels, points, strict=True)), f"line chart series {name!r}")
    colours = shuffled_palette(seed, len(series))
    axis_max = nice_ceiling(max(max(points) for points in series.values()))
    image, draw, frame = _chart_canvas(size, title, not hide_legend, axis_max)
    step = (frame.right - frame.left - 20) / (count - 1)
    xs = [round(frame.left + 10 + index * step) for index in range(count)]
    _draw_axes(draw, frame)
    lines = []
    for (name, points), (colour_name, colour) in zip(series.items(), colours, strict=True):
        centres = [(x, frame.y_of(value)) for x, value in zip(xs, points, strict=True)]
        draw.line(centres, fill=colour, width=3)
        for x, y in centres:
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        marks = [
            {"x_label": label, "value": value, "xy": list(xy)}
            for label, value, xy in zip(labels, points, centres, strict=True)
        ]
        lines.append(
            {
                "name": name,
                "colour": hex_colour(colour),
                "colour_name": colour_name,
                "points": marks,
            }
        )
    if not hide_labels:
        for x, label in zip(xs, labels, strict=True):
            label_width, _ = text_size(draw, label, font(11))
            text_box(draw, (x - label_width / 2, frame.baseline + 8), label, font(11))
    legend = (
        []
        if hide_legend
        else _draw_legend(
            draw, frame, [(name, c) for name, (_, c) in zip(series, colours, strict=True)]
        )
    )
    truth = {
        "kind": "line_chart",
        "title": title,
        "series": series,
        "x_labels": labels,
        "lines": lines,
        "axis": _axis_truth(frame),
        "labels_visible": not hide_labels,
        "legend": legend,
    }
    return _finish(image, truth)


def pie_chart(
    values: Mapping[str, float] | None = None,
    *,
    seed: int = 0,
    hide_labels: bool = False,
    hide_legend: bool = False,
    title: str = "Market share",
    size: tuple[int, int] = (480, 320),
) -> Generated:
    """Draw a pie chart whose slices start at 12 o'clock and run clockwise.

    Args:
        values: Slice label to value (>= 0). ``None`` picks four products with ``seed``.
        seed: Picks the default values and the colour order.
        hide_labels: Leave out the percentage labels outside the pie.
        hide_legend: Leave out the legend on the right.
        title: Text drawn centred at the top.
        size: Image width and height in pixels.

    Returns:
        The chart. ``truth`` contains ``values``, ``centre``, ``radius`` and per slice its
        ``label``, ``value``, ``share`` (0-1), ``colour``, ``colour_name``, and
        ``start_deg`` and ``end_deg`` in Pillow's convention (0 at 3 o'clock, clockwise).
    """
    values = dict(values) if values is not None else _default_values(seed, count=4)
    _check_values(values, "pie chart values")
    colours = shuffled_palette(seed, len(values))
    image, draw, frame = _chart_canvas(size, title, not hide_legend, 1.0)
    radius = min(frame.right - frame.left, frame.baseline - frame.top) // 2 - 22
    centre = ((frame.left + frame.right) // 2, (frame.top + frame.baseline) // 2)
    total = sum(values.values())
    start = -90.0
    slices: list[dict[str, Any]] = []
    for (label, value), (colour_name, colour) in zip(values.items(), colours, strict=True):
        end = start + 360.0 * value / total
        box = [centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius]
        draw.pieslice(box, start, end, fill=colour)
        slices.append(
            {
                "label": label,
                "value": value,
                "share": value / total,
                "colour": hex_colour(colour),
                "colour_name": colour_name,
                "start_deg": start,
                "end_deg": end,
            }
        )
        start = end
    if not hide_labels:
        _draw_pie_labels(draw, centre, radius, slices)
    legend = (
        []
        if hide_legend
        else _draw_legend(
            draw, frame, [(label, c) for label, (_, c) in zip(values, colours, strict=True)]
        )
    )
    truth = {
        "kind": "pie_chart",
        "title": title,
        "values": values,
        "max_label": max(values, key=lambda key: values[key]),
        "centre": list(centre),
        "radius": radius,
        "slices": slices,
        "labels_visible": not hide_labels,
        "legend": legend,
    }
    return _finish(image, truth)


def _draw_pie_labels(
    draw: ImageDraw.ImageDraw, centre: tuple[int, int], radius: int, slices: list[dict[str, Any]]
) -> None:
    for item in slices:
        middle = math.radians((item["start_deg"] + item["end_deg"]) / 2)
        text = f"{item['share'] * 100:.0f}%"
        width, height = text_size(draw, text, font(11))
        x = centre[0] + (radius + 14) * math.cos(middle) - width / 2
        y = centre[1] + (radius + 14) * math.sin(middle) - height / 2
        item["label_bbox"] = text_box(draw, (x, y), text, font(11))


# --- screens ----------------------------------------------------------------------------


def form_screenshot(
    fields: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    buttons: Sequence[str] | None = None,
    *,
    seed: int = 0,
    title: str = "Sign up",
    width: int = 420,
) -> Generated:
    """Draw a UI form: a title, labelled text fields with values, and a row of buttons.

    Args:
        fields: Label to value, in display order. ``None`` picks a name, an email and a
            city with ``seed``.
        buttons: Button captions from left to right; the last one is the primary
            (blue) button. ``None`` means ``["Cancel", "Submit"]``.
        seed: Picks the default field values.
        title: Heading drawn at the top left.
        width: Image width in pixels; the height follows from the number of fields.

    Returns:
        The form. ``truth`` contains ``fields``, ``buttons`` and ``elements``: every label,
        text field and button with its ``role``, ``text`` and ``bbox`` (x0, y0, x1, y1,
        inclusive). Text fields and buttons also give ``text_bbox``, the ink of their text.
    """
    pairs = list(fields.items() if isinstance(fields, Mapping) else fields or _default_fields(seed))
    captions = list(buttons) if buttons is not None else ["Cancel", "Submit"]
    height = 70 + 44 * len(pairs) + (56 if captions else 0)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    elements: list[dict[str, Any]] = [
        {"role": "heading", "text": title, "bbox": text_box(draw, (20, 16), title, font(20))}
    ]
    for index, (label, value) in enumerate(pairs):
        top = 60 + 44 * index
        elements.append(
            {"role": "label", "text": label, "bbox": text_box(draw, (20, top + 7), label, font(14))}
        )
        box = [130, top, width - 21, top + 29]
        draw.rectangle(box, fill=BACKGROUND, outline=_FIELD_BORDER)
        ink = text_box(draw, (138, top + 7), value, font(14))
        elements.append(
            {"role": "text_field", "label": label, "text": value, "bbox": box, "text_bbox": ink}
        )
    elements.extend(_draw_buttons(draw, captions, width, height))
    truth = {
        "kind": "form_screenshot",
        "title": title,
        "fields": dict(pairs),
        "buttons": captions,
        "elements": elements,
    }
    return _finish(image, truth)


def _default_fields(seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    name = rng.choice(_PEOPLE)
    email = name.split()[0].lower() + "@example.com"
    return [("Name", name), ("Email", email), ("City", rng.choice(_CITIES))]


def _draw_buttons(
    draw: ImageDraw.ImageDraw, captions: Sequence[str], width: int, height: int
) -> list[dict[str, Any]]:
    elements = []
    right = width - 21
    for index, caption in reversed(list(enumerate(captions))):
        primary = index == len(captions) - 1
        fill = _BUTTON_FILLS[1] if primary else _BUTTON_FILLS[0]
        text_width, _ = text_size(draw, caption, font(14))
        box = [right - text_width - 31, height - 48, right, height - 17]
        draw.rectangle(box, fill=fill)
        ink_colour: Colour = BACKGROUND if primary else INK
        ink = text_box(draw, (box[0] + 16, box[1] + 8), caption, font(14), fill=ink_colour)
        elements.append(
            {
                "role": "button",
                "text": caption,
                "bbox": box,
                "text_bbox": ink,
                "fill": hex_colour(fill),
            }
        )
        right = box[0] - 12
    elements.reverse()
    return elements


def table_image(
    rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, *, font_size: int = 14
) -> Generated:
    """Draw a table with 1 px grey grid lines and an optional shaded header row.

    Args:
        rows: Cell texts, one sequence per row, all of the same length.
        header: Column titles drawn on a grey row above ``rows``, or ``None``.
        font_size: Text size in pixels.

    Returns:
        The table. ``truth`` contains ``header``, ``rows`` and ``cells``: every cell with
        ``row`` (-1 for the header), ``col``, ``text``, ``bbox`` (the cell inside its
        grid lines, inclusive) and ``text_bbox``.
    """
    grid = ([list(header)] if header is not None else []) + [list(row) for row in rows]
    widths = {len(row) for row in grid}
    if not grid or len(widths) != 1 or widths == {0}:
        raise ValueError(
            "invalid table: every row needs the same, non-zero number of cells, "
            f"got row lengths {sorted(widths)}"
        )
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    columns = widths.pop()
    col_widths = [
        max(text_size(measure, row[col], font(font_size))[0] for row in grid) + 16
        for col in range(columns)
    ]
    row_height = font_size + 16
    image = Image.new(
        "RGB", (sum(col_widths) + columns + 1, len(grid) * (row_height + 1) + 1), BACKGROUND
    )
    draw = ImageDraw.Draw(image)
    cells = []
    first_row = -1 if header is not None else 0
    for row_index, row in enumerate(grid):
        top = row_index * (row_height + 1) + 1
        left = 1
        for col, text in enumerate(row):
            bbox = [left, top, left + col_widths[col] - 1, top + row_height - 1]
            if row_index == 0 and header is not None:
                draw.rectangle(bbox, fill=_HEADER_FILL)
            ink = text_box(draw, (left + 8, top + 6), text, font(font_size)) if text else None
            cells.append(
                {
                    "row": first_row + row_index,
                    "col": col,
                    "text": text,
                    "bbox": bbox,
                    "text_bbox": ink,
                }
            )
            left += col_widths[col] + 1
    _draw_grid(draw, image.size, col_widths, row_height, len(grid))
    truth = {
        "kind": "table_image",
        "header": list(header) if header is not None else None,
        "rows": [list(row) for row in rows],
        "cells": cells,
    }
    return _finish(image, truth)


def _draw_grid(
    draw: ImageDraw.ImageDraw,
    size: tuple[int, int],
    col_widths: list[int],
    row_height: int,
    row_count: int,
) -> None:
    x = 0
    for width in [0, *col_widths]:
        x += width + (1 if width else 0)
        draw.line([(x, 0), (x, size[1] - 1)], fill=_GRID)
    for index in range(row_count + 1):
        y = index * (row_height + 1)
        draw.line([(0, y), (size[0] - 1, y)], fill=_GRID)


def hidden_text_image(
    text: str,
    *,
    position: Position = "top-left",
    size: tuple[int, int] = (640, 480),
    font_size: int = 12,
    colour: Colour = (90, 90, 90),
    margin: int = 8,
) -> Generated:
    """Draw small text at one place of an otherwise blank white image.

    Args:
        text: The text to hide; it must not be empty.
        position: A named corner, ``"center"``, or the (x, y) of the text's top-left.
        size: Image width and height in pixels.
        font_size: Text size in pixels.
        colour: Text colour; a colour close to white makes the text harder to find.
        margin: Distance in pixels from the edges for the named positions.

    Returns:
        The image. ``truth`` contains ``text``, ``position`` and ``bbox``: every pixel
        outside ``bbox`` is white.
    """
    if not text.strip():
        raise ValueError("invalid text '': hidden_text_image needs visible text")
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width, height = text_size(draw, text, font(font_size))
    if isinstance(position, tuple):
        origin = (float(position[0]), float(position[1]))
    else:
        origin = _named_origin(position, size, (width, height), margin)
    bbox = text_box(draw, origin, text, font(font_size), fill=colour)
    if bbox[0] < 0 or bbox[1] < 0 or bbox[2] > size[0] or bbox[3] > size[1]:
        raise ValueError(
            f"invalid position {position!r}: the text box {bbox} lies partly outside "
            f"the {size[0]}x{size[1]} image"
        )
    truth = {"kind": "hidden_text_image", "text": text, "position": position, "bbox": bbox}
    return _finish(image, truth)


def _named_origin(
    name: str, size: tuple[int, int], text: tuple[int, int], margin: int
) -> tuple[float, float]:
    free_x, free_y = size[0] - text[0] - margin, size[1] - text[1] - margin
    origins = {
        "top-left": (margin, margin),
        "top-right": (free_x, margin),
        "bottom-left": (margin, free_y),
        "bottom-right": (free_x, free_y),
        "center": ((size[0] - text[0]) / 2, (size[1] - text[1]) / 2),
    }
    if name not in origins:
        raise ValueError(f"invalid position {name!r}: expected one of {sorted(origins)} or (x, y)")
    x, y = origins[name]
    return float(x), float(y)

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from media_helpers import part_bytes
from PIL import Image

from pytest_kimi.media import (
    bar_chart,
    form_screenshot,
    hidden_text_image,
    line_chart,
    pie_chart,
    read_embedded_truth,
    table_image,
)
from pytest_kimi.media.generators import Generated

WHITE = (255, 255, 255)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour[1:], 16)
    return value >> 16, (value >> 8) & 255, value & 255


def _pixels(generated: Generated) -> np.ndarray:
    # Decode the PNG bytes, not the in-memory image, so the encoding is checked too.
    return np.asarray(Image.open(io.BytesIO(generated.png)).convert("RGB"))


def _has_ink(pixels: np.ndarray, box: list[int]) -> bool:
    x0, y0, x1, y1 = box
    return bool((pixels[y0 : y1 + 1, x0 : x1 + 1].min(axis=2) < 128).any())


GENERATORS = {
    "bar": lambda seed: bar_chart(seed=seed),
    "line": lambda seed: line_chart(seed=seed),
    "pie": lambda seed: pie_chart(seed=seed),
    "form": lambda seed: form_screenshot(seed=seed),
    "table": lambda seed: table_image([["a", str(seed)]], ["k", "v"]),
    "hidden": lambda seed: hidden_text_image(f"code {seed}", position="center"),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_png(name: str) -> None:
    first = GENERATORS[name](7)
    second = GENERATORS[name](7)

    assert first.png == second.png
    assert first.png != GENERATORS[name](8).png


@pytest.mark.parametrize("name", GENERATORS)
def test_truth_embedded_in_png(name: str) -> None:
    generated = GENERATORS[name](1)

    mime, data = part_bytes(generated.part())

    assert mime == "image/png"
    assert data == generated.png
    assert read_embedded_truth(data) == generated.truth
    assert generated.truth["size"] == list(generated.image.size)


def test_truth_absent_or_not_png() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "PNG")

    assert read_embedded_truth(buffer.getvalue()) is None
    assert read_embedded_truth(b"\xff\xd8\xff not a png") is None


def test_bar_heights_match_values() -> None:
    values = {"north": 12.0, "south": 3.0, "east": 19.0, "west": 7.5}
    chart = bar_chart(values, seed=2)
    pixels = _pixels(chart)
    axis = chart.truth["axis"]

    heights = {}
    for bar in chart.truth["bars"]:
        x = (bar["bbox"][0] + bar["bbox"][2]) // 2
        column = pixels[: axis["baseline_y"], x]
        heights[bar["label"]] = int((column == _rgb(bar["colour"])).all(axis=1).sum())

    for label, value in values.items():
        assert abs(heights[label] - value * axis["pixels_per_unit"]) <= 1, (label, heights)
    assert abs(heights["east"] / heights["south"] - 19.0 / 3.0) < 0.4
    assert chart.truth["max_label"] == "east"
    assert chart.truth["min_label"] == "south"


def test_bar_colours_distinct_and_present() -> None:
    chart = bar_chart(seed=4)
    pixels = _pixels(chart)

    colours = [bar["colour"] for bar in chart.truth["bars"]]
    assert len(set(colours)) == len(colours)
    for bar in chart.truth["bars"]:
        x0, y0, x1, y1 = bar["bbox"]
        assert tuple(pixels[(y0 + y1) // 2, (x0 + x1) // 2]) == _rgb(bar["colour"])
        assert tuple(pixels[y0 - 1, (x0 + x1) // 2]) == WHITE


def test_bar_hidden_labels_and_legend() -> None:
    visible = bar_chart(seed=5)
    hidden = bar_chart(seed=5, hide_labels=True, hide_legend=True)
    pixels = _pixels(hidden)
    baseline = hidden.truth["axis"]["baseline_y"]
    plot_right = hidden.truth["bars"][-1]["bbox"][2]

    assert (pixels[baseline + 4 :, 60:] == 255).all()
    assert (pixels[40:, plot_right + 25 :] == 255).all()
    assert hidden.truth["legend"] == []
    assert len(visible.truth["legend"]) == 5
    assert _has_ink(_pixels(visible), visible.truth["bars"][0]["label_bbox"])


def test_line_markers_at_values() -> None:
    chart = line_chart(seed=3)
    pixels = _pixels(chart)
    axis = chart.truth["axis"]

    for line in chart.truth["lines"]:
        colour = _rgb(line["colour"])
        values = chart.truth["series"][line["name"]]
        for point, value in zip(line["points"], values, strict=True):
            x, y = point["xy"]
            rows = np.flatnonzero((pixels[:, x] == colour).all(axis=1))
            near = rows[np.abs(rows - y) <= 6]
            measured = (axis["baseline_y"] - float(np.median(near))) / axis["pixels_per_unit"]
            assert abs(measured - value) <= 1.5 / axis["pixels_per_unit"] + 0.5, (
                line["name"],
                value,
            )


def test_line_rejects_ragged_series() -> None:
    with pytest.raises(ValueError, match="expected one length >= 2"):
        line_chart({"a": [1.0, 2.0], "b": [1.0]})


def test_pie_shares_match_pixel_areas() -> None:
    values = {"a": 50.0, "b": 25.0, "c": 15.0, "d": 10.0}
    chart = pie_chart(values, seed=1)
    pixels = _pixels(chart)
    cx, cy = chart.truth["centre"]
    r = chart.truth["radius"]
    disc = pixels[cy - r : cy + r + 1, cx - r : cx + r + 1]

    counts = {
        item["label"]: int((disc == _rgb(item["colour"])).all(axis=2).sum())
        for item in chart.truth["slices"]
    }
    total = sum(counts.values())
    for label, value in values.items():
        assert abs(counts[label] / total - value / 100.0) < 0.01, counts


def test_pie_first_slice_starts_at_noon() -> None:
    chart = pie_chart({"big": 75.0, "small": 25.0}, seed=0)
    pixels = _pixels(chart)
    cx, cy = chart.truth["centre"]
    r = chart.truth["radius"]
    big, small = (_rgb(item["colour"]) for item in chart.truth["slices"])

    assert tuple(pixels[cy - r // 2, cx + 5]) == big
    assert tuple(pixels[cy - r // 2, cx - 5]) == small


def test_form_elements_drawn_where_stated() -> None:
    form = form_screenshot({"User": "grace", "Plan": "Pro"}, ["Back", "Pay now"])
    pixels = _pixels(form)
    elements = form.truth["elements"]

    fields = [item for item in elements if item["role"] == "text_field"]
    buttons = [item for item in elements if item["role"] == "button"]
    assert [(item["label"], item["text"]) for item in fields] == [
        ("User", "grace"),
        ("Plan", "Pro"),
    ]
    assert [item["text"] for item in buttons] == ["Back", "Pay now"]
    for item in elements:
        assert _has_ink(pixels, item.get("text_bbox") or item["bbox"]), item["text"]
    for item in fields:
        x0, y0, x1, y1 = item["bbox"]
        assert tuple(pixels[(y0 + y1) // 2, x0]) == (120, 120, 120)
        assert tuple(pixels[y0 + 3, x1 - 3]) == WHITE
    for item in buttons:
        x0, y0, _, _ = item["bbox"]
        assert tuple(pixels[y0 + 2, x0 + 2]) == _rgb(item["fill"])
    assert buttons[0]["bbox"][2] < buttons[1]["bbox"][0]


def test_form_default_fields_from_seed() -> None:
    fields = form_screenshot(seed=3).truth["fields"]

    assert list(fields) == ["Name", "Email", "City"]
    assert fields["Email"].endswith("@example.com")


def test_table_cells_inside_grid() -> None:
    table = table_image([["Oslo", "7"], ["", "12"]], header=["City", "Temp"])
    pixels = _pixels(table)
    grid = (190, 190, 190)

    cells = table.truth["cells"]
    assert [(cell["row"], cell["col"], cell["text"]) for cell in cells][:3] == [
        (-1, 0, "City"),
        (-1, 1, "Temp"),
        (0, 0, "Oslo"),
    ]
    for cell in cells:
        x0, y0, x1, y1 = cell["bbox"]
        assert tuple(pixels[(y0 + y1) // 2, x0 - 1]) == grid
        assert tuple(pixels[(y0 + y1) // 2, x1 + 1]) == grid
        assert tuple(pixels[y0 - 1, (x0 + x1) // 2]) == grid
        assert _has_ink(pixels, cell["bbox"]) == bool(cell["text"])
    assert tuple(pixels[cells[0]["bbox"][1] + 1, cells[0]["bbox"][0] + 1]) == (230, 230, 230)


def test_table_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="same, non-zero number of cells"):
        table_image([["a", "b"], ["c"]])


@pytest.mark.parametrize(
    ("position", "quadrant"),
    [
        ("top-left", (0, 0)),
        ("top-right", (1, 0)),
        ("bottom-left", (0, 1)),
        ("bottom-right", (1, 1)),
        ((300, 200), (0, 0)),
    ],
)
def test_hidden_text_only_in_its_box(position: Any, quadrant: tuple[int, int]) -> None:
    image = hidden_text_image("PIN 4071", position=position, size=(640, 480))
    pixels = _pixels(image)
    x0, y0, x1, y1 = image.truth["bbox"]

    ink = (pixels != 255).any(axis=2)
    assert ink[y0 : y1 + 1, x0 : x1 + 1].sum() > 20
    ink[y0 : y1 + 1, x0 : x1 + 1] = False
    assert not ink.any()
    if isinstance(position, str):
        assert (x0 >= 320, y0 >= 240) == (bool(quadrant[0]), bool(quadrant[1]))
    else:
        assert abs(x0 - 300) <= 3
        assert abs(y0 - 200) <= 6


def test_hidden_text_outside_image_rejected() -> None:
    with pytest.raises(ValueError, match="lies partly outside the 100x50 image"):
        hidden_text_image("far away", position=(95, 10), size=(100, 50))


@pytest.mark.parametrize("values", [{}, {"a": -1.0}, {"a": 0.0}])
def test_bar_rejects_bad_values(values: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid bar chart values"):
        bar_chart(values)

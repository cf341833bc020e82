from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageOps

from pytest_kimi.media import (
    bar_chart,
    decode_data_url,
    form_screenshot,
    image_part,
    read_embedded_truth,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MEDIA_FILES = [
    "photo_exif_orientation6.jpg",
    "form_screenshot.png",
    "bar_chart.png",
    "counter.gif",
    "rgba_half_transparent.png",
]


@pytest.mark.parametrize("name", MEDIA_FILES)
def test_fixture_small_and_listed(name: str) -> None:
    path = FIXTURES / name

    assert path.stat().st_size < 50 * 1024
    assert f"`{name}`" in (FIXTURES / "README.md").read_text()


def test_photo_has_exif_orientation_6() -> None:
    with Image.open(FIXTURES / "photo_exif_orientation6.jpg") as photo:
        assert photo.getexif()[0x0112] == 6
        assert photo.size == (64, 32)
        upright = ImageOps.exif_transpose(photo).convert("RGB")

    assert upright.size == (32, 64)
    red, _, blue = upright.getpixel((16, 8))
    assert red > 180
    assert blue < 80


def test_photo_part_is_upright() -> None:
    part = image_part(FIXTURES / "photo_exif_orientation6.jpg")

    mime, data = decode_data_url(part["image_url"]["url"])
    assert mime == "image/jpeg"
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.size == (32, 64)


def test_chart_bars_match_truth() -> None:
    data = (FIXTURES / "bar_chart.png").read_bytes()
    truth = read_embedded_truth(data)
    assert truth is not None
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    baseline = truth["axis"]["baseline_y"]

    for bar in truth["bars"]:
        colour = tuple(int(bar["colour"][i : i + 2], 16) for i in (1, 3, 5))
        column = pixels[:baseline, (bar["bbox"][0] + bar["bbox"][2]) // 2]
        height = int((column == colour).all(axis=1).sum())
        assert abs(height - bar["value"] * truth["axis"]["pixels_per_unit"]) <= 1, bar["label"]


def test_counter_gif_frames() -> None:
    with Image.open(FIXTURES / "counter.gif") as gif:
        assert gif.n_frames == 5
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(gif.convert("L"))

    for previous, current in itertools.pairwise(frames):
        assert ImageChops.difference(previous, current).getbbox() is not None
    for frame in frames:
        assert np.asarray(frame).min() < 64


def test_rgba_fixture_pixels() -> None:
    with Image.open(FIXTURES / "rgba_half_transparent.png") as image:
        assert image.mode == "RGBA"
        assert image.size == (32, 16)
        assert image.getpixel((8, 8)) == (0, 0, 0, 255)
        assert image.getpixel((24, 8)) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("name", "make"),
    [("bar_chart.png", bar_chart), ("form_screenshot.png", form_screenshot)],
)
def test_generated_fixture_up_to_date(name: str, make: object) -> None:
    data = (FIXTURES / name).read_bytes()

    assert callable(make)
    assert data == make(seed=0).png, "run: PYTHONPATH=. python fixtures/make_fixtures.py"


def test_screenshot_truth_lists_form() -> None:
    truth = read_embedded_truth((FIXTURES / "form_screenshot.png").read_bytes())

    assert truth is not None
    assert list(truth["fields"]) == ["Name", "Email", "City"]
    assert truth["buttons"] == ["Cancel", "Submit"]

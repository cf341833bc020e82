"""Drawing helpers for the known-answer generators: palette, fonts, text and boxes."""

from __future__ import annotations

import math
import random

from PIL import ImageDraw, ImageFont

__all__ = [
    "BACKGROUND",
    "INK",
    "PALETTE",
    "Box",
    "Colour",
    "Font",
    "font",
    "hex_colour",
    "nice_ceiling",
    "shuffled_palette",
    "text_box",
    "text_size",
]

Colour = tuple[int, int, int]
Box = list[int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

BACKGROUND: Colour = (255, 255, 255)
INK: Colour = (20, 20, 20)

#: Distinct, named colours (the matplotlib "tab10" set), so a truth can name a colour.
PALETTE: tuple[tuple[str, Colour], ...] = (
    ("blue", (31, 119, 180)),
    ("orange", (255, 127, 14)),
    ("green", (44, 160, 44)),
    ("red", (214, 39, 40)),
    ("purple", (148, 103, 189)),
    ("brown", (140, 86, 75)),
    ("pink", (227, 119, 194)),
    ("grey", (127, 127, 127)),
    ("olive", (188, 189, 34)),
    ("cyan", (23, 190, 207)),
)


def font(size: int) -> Font:
    """Return Pillow's bundled default font at ``size`` px (FreeType, Pillow >= 10.1)."""
    return ImageFont.load_default(size=size)


def hex_colour(colour: Colour) -> str:
    """Return ``#rrggbb`` for an RGB tuple."""
    return "#{:02x}{:02x}{:02x}".format(*colour)


def shuffled_palette(seed: int, count: int) -> list[tuple[str, Colour]]:
    """Return ``count`` palette entries in an order fixed by ``seed``, repeating if needed."""
    order = list(PALETTE)
    random.Random(seed).shuffle(order)
    return [order[index % len(order)] for index in range(count)]


def text_box(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font, fill: Colour = INK
) -> Box:
    """Draw ``text`` with its top-left at ``xy`` and return the bounding box of its ink."""
    draw.text(xy, text, font=font, fill=fill)
    left, top, right, bottom = draw.textbbox(xy, text, font=font)
    return [int(left), int(top), int(math.ceil(right)), int(math.ceil(bottom))]


def text_size(draw: ImageDraw.ImageDraw, text: str, font: Font) -> tuple[int, int]:
    """Return the width and height of ``text`` drawn at the origin."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return int(math.ceil(right - left)), int(math.ceil(bottom - top))


def nice_ceiling(value: float) -> float:
    """Round a positive axis maximum up to 1, 2, 2.5 or 5 times a power of ten."""
    exponent = math.floor(math.log10(value))
    base = 10.0**exponent
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * base + 1e-9:
            return step * base
    return 10.0 * base

"""Helpers shared by the media tests: decode a content part back into pixels."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from pytest_kimi.media import decode_data_url, sniff_mime


def part_bytes(part: dict[str, Any]) -> tuple[str, bytes]:
    """Return the declared MIME type and the bytes of an image or video part."""
    key = "image_url" if part["type"] == "image_url" else "video_url"
    return decode_data_url(part[key]["url"])


def part_image(part: dict[str, Any]) -> Image.Image:
    """Decode an image part, checking that its declared MIME type matches its bytes."""
    mime, data = part_bytes(part)
    assert sniff_mime(data) == mime
    return Image.open(io.BytesIO(data))


def png_bytes(image: Image.Image, **params: Any) -> bytes:
    """Encode an image as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **params)
    return buffer.getvalue()


def half_transparent(mode: str) -> Image.Image:
    """Build the 32x16 image: left half opaque black, right half fully transparent.

    ``mode`` is RGBA, LA, PA, or P (a palette image with a tRNS transparency index).
    """
    if mode == "P":
        image = Image.new("P", (32, 16), 0)
        image.putpalette([0, 0, 0, 0, 0, 0])
        image.paste(1, (16, 0, 32, 16))
        image.info["transparency"] = 1
        return image
    rgba = Image.new("RGBA", (32, 16), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (0, 0, 16, 16))
    return rgba if mode == "RGBA" else rgba.convert(mode)

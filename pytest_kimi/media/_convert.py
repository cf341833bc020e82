"""Pixel conversions shared by image encoding and frame sampling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from pytest_kimi.media.errors import MediaError

__all__ = [
    "array_to_image",
    "fit_pixels",
    "flatten_on_white",
    "has_alpha",
    "resize",
    "sample_indices",
    "to_display_mode",
]

_ALPHA_MODES = ("RGBA", "LA")
_PREMULTIPLIED = {"RGBA": "RGBa", "LA": "La"}


def _scale_16_to_8(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    # 65535 maps to 255 with rounding, so the full 16-bit range keeps its contrast.
    wide = values.astype(np.uint32)
    return ((wide * 255 + 32767) // 65535).astype(np.uint8)


def _integer_to_8(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Map the values of an ``I`` or ``F`` image to 0-255.

    Values already in 0-255 are kept, values in 0-65535 are read as 16-bit samples,
    and any other range is stretched from its minimum to its maximum.
    """
    low = float(values.min())
    high = float(values.max())
    if low >= 0 and high <= 255:
        rounded: npt.NDArray[np.uint8] = np.rint(values).astype(np.uint8)
        return rounded
    if low >= 0 and high <= 65535:
        return _scale_16_to_8(np.rint(values))
    stretched = (values.astype(np.float64) - low) * (255.0 / (high - low))
    return np.rint(stretched).astype(np.uint8)


def to_display_mode(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to ``RGB``, ``RGBA``, ``L`` or ``LA``.

    Palette images keep their transparency (a ``tRNS`` index or palette alpha), and
    16-bit and 32-bit images are scaled to 8 bits rather than clipped.
    """
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in ("PA", "RGBa", "RGBX"):
        return image.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "La":
        return image.convert("LA")
    if mode.startswith("I;16"):
        return Image.fromarray(_scale_16_to_8(np.asarray(image)), mode="L")
    if mode in ("I", "F"):
        return Image.fromarray(_integer_to_8(np.asarray(image)), mode="L")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def array_to_image(array: npt.NDArray[Any]) -> Image.Image:
    """Build a Pillow image from an HxW, HxWx1, HxWx3 or HxWx4 array of uint8 or uint16."""
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        array = _scale_16_to_8(array)
    elif array.dtype != np.uint8:
        raise MediaError(
            "<array>",
            f"unsupported dtype {array.dtype}",
            "Convert the array to uint8 (0-255) or uint16 (0-65535) first.",
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    channels = 0
    if array.ndim == 2:
        channels = 1
    elif array.ndim == 3:
        channels = array.shape[2]
    if channels not in modes or min(array.shape[:2]) == 0:
        raise MediaError(
            "<array>",
            f"unsupported shape {array.shape}",
            "Pass a non-empty HxW, HxWx3 (RGB) or HxWx4 (RGBA) array.",
        )
    return Image.fromarray(np.ascontiguousarray(array), mode=modes[channels])


def has_alpha(image: Image.Image) -> bool:
    """Return whether a display-mode image has an alpha channel."""
    return image.mode in _ALPHA_MODES


def flatten_on_white(image: Image.Image) -> Image.Image:
    """Composite an image over white and return it in ``RGB`` or ``L`` mode.

    A plain ``convert("RGB")`` drops the alpha channel, so fully transparent pixels
    stored as (0, 0, 0, 0) turn black (unclecode/crawl4ai#57).
    """
    if not has_alpha(image):
        return image
    base_mode = "RGB" if image.mode == "RGBA" else "L"
    white = (255, 255, 255) if base_mode == "RGB" else 255
    background = Image.new(base_mode, image.size, white)
    background.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return background


def fit_pixels(image: Image.Image, max_pixels: int) -> Image.Image:
    """Downscale an image, keeping its aspect ratio, until width x height <= max_pixels."""
    width, height = image.size
    if width * height <= max_pixels:
        return image
    scale = math.sqrt(max_pixels / (width * height))
    return resize(image, (int(width * scale), int(height * scale)), max_pixels)


def resize(image: Image.Image, size: tuple[int, int], max_pixels: int | None = None) -> Image.Image:
    """Resize with Lanczos filtering, on premultiplied alpha for transparent images.

    Premultiplying stops the colour of fully transparent pixels from bleeding into the
    edges of opaque ones.
    """
    width, height = max(1, size[0]), max(1, size[1])
    while max_pixels is not None and width * height > max_pixels and max(width, height) > 1:
        if width >= height:
            width -= 1
        else:
            height -= 1
    premultiplied = _PREMULTIPLIED.get(image.mode)
    if premultiplied is None:
        return image.resize((width, height), Image.Resampling.LANCZOS)
    scaled = image.convert(premultiplied).resize((width, height), Image.Resampling.LANCZOS)
    return scaled.convert(image.mode)


def sample_indices(count: int, max_count: int) -> list[int]:
    """Pick up to ``max_count`` evenly spaced indices from ``range(count)``, ends included."""
    if count <= max_count:
        return list(range(count))
    if max_count == 1:
        return [0]
    return [round(i * (count - 1) / (max_count - 1)) for i in range(max_count)]

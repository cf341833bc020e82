"""Turn images from files, bytes, Pillow or numpy into ``image_url`` content parts.

The default budgets are pytest-kimi's own choices, not Moonshot limits, because Moonshot
publishes no per-image size or resolution limit:

- ``DEFAULT_MAX_PIXELS`` is 1792 x 1792 (3,211,264 pixels), which keeps a full-HD
  screenshot (1920 x 1080 = 2,073,600 pixels) at its native size.
- ``DEFAULT_MAX_BYTES`` is 5 MiB of encoded image, before base64 (which adds a third).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from pytest_kimi.media._convert import (
    array_to_image,
    fit_pixels,
    flatten_on_white,
    resize,
    sample_indices,
    to_display_mode,
)
from pytest_kimi.media.errors import MediaError
from pytest_kimi.media.mime import IMAGE_MIME_TYPES, decode_data_url, encode_data_url, sniff_mime
from pytest_kimi.media.parts import ContentPart, Detail, image_url_part

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "ImageFormat",
    "ImageSource",
    "image_frames",
    "image_part",
]

DEFAULT_MAX_PIXELS = 1792 * 1792
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_FRAMES = 8

#: Output encodings ``image_part`` can produce for a still image.
ImageFormat = Literal["png", "jpeg", "webp"]

#: Everything ``image_part`` accepts: a path, an http(s) or data URL, bytes, a Pillow
#: image or a numpy array.
ImageSource = str | os.PathLike[str] | bytes | Image.Image | npt.NDArray[Any]

_MIN_SIDE = 16
_QUALITIES = (90, 80, 70, 60, 50, 40)
_FORMAT_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}
_MIME_FORMAT = {mime: name for name, mime in _FORMAT_MIME.items()}
_EXIF_ORIENTATION = 0x0112
# 8-bit modes only: many servers decode with Pillow's convert("RGB"), which clips 16-bit
# samples to 255, and CMYK JPEGs are often shown with inverted colours.
_PASS_THROUGH_MODES = frozenset({"RGB", "RGBA", "L", "LA", "P"})
_SUPPORTED_HINT = "Pass a PNG, JPEG, WebP or GIF image"


@dataclass
class _Loaded:
    label: str
    image: Image.Image
    raw: bytes | None = None
    mime: str | None = None

    @property
    def is_animated(self) -> bool:
        return int(getattr(self.image, "n_frames", 1)) > 1


@overload
def image_part(
    source: ImageSource,
    *,
    max_pixels: int = ...,
    max_bytes: int = ...,
    format: ImageFormat | None = ...,
    detail: Detail | None = ...,
    frames: Literal[False] = ...,
    max_frames: int = ...,
) -> ContentPart: ...


@overload
def image_part(
    source: ImageSource,
    *,
    max_pixels: int = ...,
    max_bytes: int = ...,
    format: ImageFormat | None = ...,
    detail: Detail | None = ...,
    frames: Literal[True],
    max_frames: int = ...,
) -> list[ContentPart]: ...


def image_part(
    source: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    format: ImageFormat | None = None,
    detail: Detail | None = None,
    frames: bool = False,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> ContentPart | list[ContentPart]:
    """Build an ``image_url`` content part with a base64 data URL.

    Bytes in PNG, JPEG, WebP or GIF that fit both budgets, need no EXIF rotation and
    match ``format`` are sent unchanged, so animations and PNG text chunks survive.
    Anything else is decoded, rotated by its EXIF orientation, converted to 8-bit
    RGB(A) or L(A), downscaled to ``max_pixels`` and encoded again. When the encoding
    exceeds ``max_bytes``, PNG falls back to JPEG at decreasing quality, and then the
    image is downscaled. Transparent pixels are laid over white before JPEG encoding.

    Args:
        source: A file path, an http(s) URL (returned as a URL and not downloaded), a
            data URL, encoded bytes, a Pillow image, or a uint8 or uint16 numpy array of
            shape HxW, HxWx3 or HxWx4.
        max_pixels: Maximum width x height of each image sent.
        max_bytes: Maximum size of each encoded image, before base64.
        format: Encoding to produce. ``None`` keeps the source format where possible.
            An explicit ``"png"`` never falls back to JPEG.
        detail: OpenAI's ``detail`` hint, added to the part when given.
        frames: Return a list with one PNG part per sampled frame of an animation
            instead of one part.
        max_frames: Maximum number of frames when ``frames`` is true. Frames are
            sampled evenly and include the first and the last.

    Returns:
        ``{"type": "image_url", "image_url": {"url": "data:image/...;base64,..."}}``,
        or a list of such parts when ``frames`` is true. The declared MIME type always
        matches the encoded bytes.

    Raises:
        MediaError: The source is missing, corrupt or unsupported, or cannot fit
            ``max_bytes`` even at 16 px.
    """
    _check_positive(max_pixels=max_pixels, max_bytes=max_bytes, max_frames=max_frames)
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        if frames:
            raise MediaError(
                source,
                "frames cannot be taken from a URL without downloading it",
                "Download the file and pass its path, or drop frames=True.",
            )
        return image_url_part(source, detail)
    if frames:
        return image_frames(
            source,
            max_frames=max_frames,
            max_pixels=max_pixels,
            max_bytes=max_bytes,
            format=format,
            detail=detail,
        )
    loaded = _load(source)
    mime, data = _encode(loaded, max_pixels, max_bytes, format)
    return image_url_part(encode_data_url(mime, data), detail)


def image_frames(
    source: ImageSource,
    *,
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    format: ImageFormat | None = None,
    detail: Detail | None = None,
) -> list[ContentPart]:
    """Split an animated GIF, APNG or WebP into evenly sampled still-image parts.

    A still image gives a list of one part. Each frame is the fully composed frame, as
    a viewer shows it, encoded as PNG unless ``format`` names another encoding.

    Args:
        source: Anything ``image_part`` accepts except an http(s) URL.
        max_frames: Maximum number of parts; the first and last frames are included.
        max_pixels: Maximum width x height of each frame.
        max_bytes: Maximum encoded size of each frame, before base64.
        format: Encoding of each frame; ``None`` means PNG.
        detail: OpenAI's ``detail`` hint, added to each part when given.

    Returns:
        One ``image_url`` part per sampled frame, in playback order.

    Raises:
        MediaError: The source is missing, corrupt or unsupported.
    """
    _check_positive(max_pixels=max_pixels, max_bytes=max_bytes, max_frames=max_frames)
    loaded = _load(source)
    count = int(getattr(loaded.image, "n_frames", 1))
    parts = []
    for index in sample_indices(count, max_frames):
        loaded.image.seek(index)
        frame = to_display_mode(loaded.image.convert("RGBA"))
        mime, data = _encode_still(
            fit_pixels(frame, max_pixels),
            format or "png",
            explicit=format is not None,
            max_bytes=max_bytes,
            label=f"{loaded.label} frame {index}",
        )
        parts.append(image_url_part(encode_data_url(mime, data), detail))
    return parts


def _check_positive(**limits: int) -> None:
    for name, value in limits.items():
        if value < 1:
            raise ValueError(f"invalid {name}={value!r}: expected a positive integer")


# --- loading ---------------------------------------------------------------------------


def _load(source: ImageSource) -> _Loaded:
    if isinstance(source, Image.Image):
        return _Loaded("<image>", source)
    if isinstance(source, np.ndarray):
        return _Loaded("<array>", array_to_image(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _load_bytes(bytes(source), "<bytes>")
    if isinstance(source, str) and source.startswith("data:"):
        try:
            _, raw = decode_data_url(source)
        except ValueError as exc:
            raise MediaError("<data URL>", str(exc), "Pass a valid base64 data URL.") from None
        return _load_bytes(raw, "<data URL>")
    if isinstance(source, (str, os.PathLike)):
        return _load_bytes(_read_file(Path(source)), str(source))
    raise MediaError(
        f"<{type(source).__name__}>",
        "unsupported image source type",
        "Pass a path, URL, bytes, PIL.Image.Image or numpy array.",
    )


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MediaError(str(path), "file not found", "Check the path.") from None
    except OSError as exc:
        raise MediaError(str(path), f"cannot read file ({exc})", "Check the path.") from None


def _load_bytes(raw: bytes, label: str) -> _Loaded:
    mime = sniff_mime(raw)
    if mime is not None and mime.startswith("video/"):
        raise MediaError(
            label,
            f"the data is a video ({mime}), not an image",
            "Use pytest_kimi.media.video_part or video_frames for videos.",
        )
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        kind = mime or "unrecognised data"
        raise MediaError(
            label,
            f"not a readable image ({kind}: {exc})",
            f"{_SUPPORTED_HINT}, and check that the file is complete.",
        ) from None
    return _Loaded(label, image, raw, mime)


# --- encoding --------------------------------------------------------------------------


def _encode(
    loaded: _Loaded, max_pixels: int, max_bytes: int, format: ImageFormat | None
) -> tuple[str, bytes]:
    if _can_pass_through(loaded, max_pixels, max_bytes, format):
        assert loaded.raw is not None and loaded.mime is not None
        return loaded.mime, loaded.raw
    if loaded.is_animated:
        if format is not None and _FORMAT_MIME[format] != loaded.mime:
            raise MediaError(
                loaded.label,
                f"an animated {loaded.mime} cannot be encoded as {format}",
                "Pass frames=True to get one part per frame, or format=None to keep it animated.",
            )
        return _encode_animated(loaded, max_pixels, max_bytes)
    image = to_display_mode(ImageOps.exif_transpose(loaded.image))
    target = format or _still_format(loaded.mime)
    return _encode_still(
        fit_pixels(image, max_pixels),
        target,
        explicit=format is not None,
        max_bytes=max_bytes,
        label=loaded.label,
    )


def _can_pass_through(
    loaded: _Loaded, max_pixels: int, max_bytes: int, format: ImageFormat | None
) -> bool:
    if loaded.raw is None or loaded.mime not in IMAGE_MIME_TYPES:
        return False
    if loaded.image.mode not in _PASS_THROUGH_MODES:
        return False
    if format is not None and _FORMAT_MIME[format] != loaded.mime:
        return False
    width, height = loaded.image.size
    orientation = loaded.image.getexif().get(_EXIF_ORIENTATION, 1)
    return width * height <= max_pixels and len(loaded.raw) <= max_bytes and orientation == 1


def _still_format(mime: str | None) -> ImageFormat:
    if mime == "image/jpeg":
        return "jpeg"
    if mime == "image/webp":
        return "webp"
    return "png"


def _save(image: Image.Image, format: str, quality: int | None = None) -> bytes:
    buffer = io.BytesIO()
    if format == "jpeg":
        flat = flatten_on_white(image)
        flat.save(buffer, "JPEG", quality=quality)
    elif format == "webp":
        image.save(buffer, "WEBP", quality=quality)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def _encode_still(
    image: Image.Image, format: ImageFormat, *, explicit: bool, max_bytes: int, label: str
) -> tuple[str, bytes]:
    """Encode one still image, trying lower quality and then smaller sizes until it fits."""
    ladder: list[tuple[str, int | None]] = []
    if format == "png":
        ladder.append(("png", None))
    if format != "png" or not explicit:
        lossy = "jpeg" if format == "png" else format
        ladder.extend((lossy, quality) for quality in _QUALITIES)
    current = image
    while True:
        for step_format, quality in ladder:
            data = _save(current, step_format, quality)
            if len(data) <= max_bytes:
                return _FORMAT_MIME[step_format], data
        if max(current.size) <= _MIN_SIDE:
            raise _over_budget(label, max_bytes, smallest=len(data))
        current = resize(current, _three_quarters(current.size))


def _encode_animated(loaded: _Loaded, max_pixels: int, max_bytes: int) -> tuple[str, bytes]:
    """Encode an animation again in its own format, downscaling every frame until it fits."""
    target = _MIME_FORMAT.get(loaded.mime or "", "png")
    frames = [
        to_display_mode(frame.convert("RGBA")) for frame in ImageSequence.all_frames(loaded.image)
    ]
    durations = []
    for index in range(len(frames)):
        loaded.image.seek(index)
        durations.append(int(loaded.image.info.get("duration", 100)))
    frames = [fit_pixels(frame, max_pixels) for frame in frames]
    while True:
        data = _save_animation(frames, target, durations, int(loaded.image.info.get("loop", 0)))
        if len(data) <= max_bytes:
            return _FORMAT_MIME[target], data
        if max(frames[0].size) <= _MIN_SIDE:
            raise _over_budget(loaded.label, max_bytes, smallest=len(data))
        size = _three_quarters(frames[0].size)
        frames = [resize(frame, size) for frame in frames]


def _save_animation(
    frames: list[Image.Image], format: str, durations: list[int], loop: int
) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format.upper(),
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=loop,
    )
    return buffer.getvalue()


def _three_quarters(size: tuple[int, int]) -> tuple[int, int]:
    return max(1, size[0] * 3 // 4), max(1, size[1] * 3 // 4)


def _over_budget(label: str, max_bytes: int, *, smallest: int) -> MediaError:
    return MediaError(
        label,
        f"cannot encode the image within max_bytes={max_bytes}; "
        f"the smallest encoding tried is {smallest} bytes at {_MIN_SIDE} px",
        "Raise max_bytes, or pass a smaller or simpler image.",
    )

"""Turn videos and animations into ``video_url`` parts or into sampled still frames.

Frames of GIF, APNG and animated WebP files are read with Pillow. Frames of real video
containers (mp4, mov, webm, avi and others) are decoded with PyAV, an optional
dependency installed by ``pip install 'pytest-kimi[video]'`` and imported only when needed.
"""

from __future__ import annotations

import importlib
import io
import os
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from pytest_kimi.media._convert import sample_indices
from pytest_kimi.media.errors import CapabilitySkip, MediaError
from pytest_kimi.media.images import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS,
    ImageFormat,
    image_frames,
    image_part,
)
from pytest_kimi.media.mime import (
    IMAGE_MIME_TYPES,
    VIDEO_MIME_TYPES,
    encode_data_url,
    is_animated_png,
    sniff_mime,
)
from pytest_kimi.media.parts import ContentPart, video_url_part

__all__ = [
    "DEFAULT_MAX_VIDEO_BYTES",
    "VIDEO_EXTRA_INSTALL",
    "VideoSource",
    "video_frames",
    "video_or_frames",
    "video_part",
]

#: pytest-kimi's default limit for an inline video, before base64. Moonshot documents
#: 100 MB per uploaded file and no limit for inline data URLs.
DEFAULT_MAX_VIDEO_BYTES = 20 * 1024 * 1024

#: The command that installs the optional video decoder.
VIDEO_EXTRA_INSTALL = "pip install 'pytest-kimi[video]'"

#: A path to a video or animation file, or its bytes.
VideoSource = str | os.PathLike[str] | bytes

_PASS_THROUGH_SCHEMES = ("http://", "https://", "ms://")


def video_part(source: VideoSource, *, max_bytes: int = DEFAULT_MAX_VIDEO_BYTES) -> ContentPart:
    """Build a ``video_url`` content part with a base64 data URL.

    GIF, APNG and animated WebP files are animations, which the API takes as images,
    so they come back as an ``image_url`` part (see ``image_part``).

    Args:
        source: A file path, the file's bytes, or an http(s) or ``ms://<file-id>`` URL,
            which is returned unchanged.
        max_bytes: Maximum size of the video, before base64.

    Returns:
        ``{"type": "video_url", "video_url": {"url": "data:video/mp4;base64,..."}}``
        with the MIME type sniffed from the bytes, or an ``image_url`` part for an
        animation.

    Raises:
        MediaError: The file is missing, is not a video or animation, or exceeds
            ``max_bytes``.
    """
    if isinstance(source, str) and source.startswith(_PASS_THROUGH_SCHEMES):
        return video_url_part(source)
    label, data = _read(source)
    mime = sniff_mime(data)
    if mime in IMAGE_MIME_TYPES and _is_animation(data, mime):
        return image_part(data)
    if mime not in VIDEO_MIME_TYPES:
        raise _not_a_video(label, mime)
    if len(data) > max_bytes:
        raise MediaError(
            label,
            f"the video is {len(data)} bytes, over max_bytes={max_bytes}",
            "Send sampled frames with video_frames(), upload the file to /v1/files and "
            "send 'ms://<file-id>', or raise max_bytes.",
        )
    return video_url_part(encode_data_url(mime, data))


def video_frames(
    source: VideoSource,
    *,
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    format: ImageFormat | None = None,
) -> list[ContentPart]:
    """Sample frames evenly from a video or animation and return them as image parts.

    Args:
        source: A path to, or the bytes of, a video (mp4, mov, webm, avi, ...) or an
            animation (GIF, APNG, WebP).
        max_frames: Maximum number of frames; the first and last frames are included.
        max_pixels: Maximum width x height of each frame.
        max_bytes: Maximum encoded size of each frame, before base64.
        format: Encoding of each frame. ``None`` means PNG for animations and JPEG for
            video frames.

    Returns:
        One ``image_url`` part per sampled frame, in playback order.

    Raises:
        MediaError: The source is not a video or animation, cannot be decoded, or is a
            video container while PyAV is not installed.
    """
    label, data = _read(source)
    mime = sniff_mime(data)
    if mime in IMAGE_MIME_TYPES:
        return image_frames(
            data, max_frames=max_frames, max_pixels=max_pixels, max_bytes=max_bytes, format=format
        )
    if mime is None or not mime.startswith("video/"):
        raise _not_a_video(label, mime)
    if max_frames < 1:
        raise ValueError(f"invalid max_frames={max_frames!r}: expected a positive integer")
    frames = _decode_frames(data, label, mime, max_frames)
    return [
        image_part(frame, max_pixels=max_pixels, max_bytes=max_bytes, format=format or "jpeg")
        for frame in frames
    ]


def video_or_frames(
    source: VideoSource,
    *,
    supports_video: bool,
    fallback: Literal["skip", "frames"],
    max_frames: int = DEFAULT_MAX_FRAMES,
    route: str = "this route",
) -> list[ContentPart]:
    """Choose between sending a video and sending sampled frames, by route capability.

    Args:
        source: A path to, or the bytes of, a video or animation.
        supports_video: Whether the route takes ``video_url`` parts.
        fallback: What to do when it does not: ``"frames"`` sends sampled frames and
            ``"skip"`` raises ``CapabilitySkip``.
        max_frames: Maximum number of frames for the ``"frames"`` fallback.
        route: The route name used in the skip reason.

    Returns:
        The content parts to send: one video part, or one image part per frame.

    Raises:
        CapabilitySkip: The route does not take video and ``fallback`` is ``"skip"``.
    """
    if supports_video:
        return [video_part(source)]
    if fallback == "frames":
        return video_frames(source, max_frames=max_frames)
    raise CapabilitySkip(
        f"{route} does not support video input; pass fallback='frames' to send "
        f"up to {max_frames} sampled frames instead"
    )


def _read(source: VideoSource) -> tuple[str, bytes]:
    if isinstance(source, bytes):
        return "<bytes>", source
    path = Path(source)
    try:
        return str(path), path.read_bytes()
    except FileNotFoundError:
        raise MediaError(str(path), "file not found", "Check the path.") from None
    except OSError as exc:
        raise MediaError(str(path), f"cannot read file ({exc})", "Check the path.") from None


def _is_animation(data: bytes, mime: str) -> bool:
    if mime == "image/png":
        return is_animated_png(data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(getattr(image, "n_frames", 1)) > 1
    except OSError:
        return False


def _not_a_video(label: str, mime: str | None) -> MediaError:
    found = f"a still image ({mime})" if mime in IMAGE_MIME_TYPES else (mime or "unrecognised data")
    return MediaError(
        label,
        f"not a supported video or animation: found {found}",
        "Pass an mp4, mpeg, mov, avi, flv, webm, wmv or 3gpp video, or a GIF, APNG "
        "or animated WebP; send still images with image_part().",
    )


def _import_av(label: str, mime: str) -> Any:
    try:
        return importlib.import_module("av")
    except ImportError:
        raise MediaError(
            label,
            f"decoding {mime} frames needs PyAV, which is not installed",
            f"Run: {VIDEO_EXTRA_INSTALL}",
        ) from None


def _decode_frames(data: bytes, label: str, mime: str, max_frames: int) -> list[Image.Image]:
    """Decode the frames at evenly spaced indices.

    NOTE: every frame up to the last sampled one is decoded, which is slow for long videos.
    """
    av = _import_av(label, mime)
    try:
        count = _count_frames(av, data)
        selected = set(sample_indices(count, max_frames))
        frames = []
        with av.open(io.BytesIO(data)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index in selected:
                    frames.append(frame.to_image())
                if len(frames) == len(selected):
                    break
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(
            label, f"cannot decode the {mime} video ({exc})", "Check that the file is complete."
        ) from None
    if not frames:
        raise MediaError(label, f"the {mime} video has no frames", "Pass a non-empty video.")
    return frames


def _count_frames(av: Any, data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        declared = int(container.streams.video[0].frames)
        if declared > 0:
            return declared
        return sum(1 for _ in container.decode(video=0))

"""Validate the content parts of an incoming chat request, as the real API would.

``check_content_part`` is pure: it reads no files and opens no connections. The emulator
wraps each message it returns into ``{"error": {"type": "invalid_request_error",
"message": ...}}`` with HTTP status 400.

In one place the checks are stricter than the real API is known to be. A declared MIME
type that is not of the form ``type/subtype`` is rejected here. Moonshot's own sample code
sends such a type (``image/.png``), and the real API apparently accepts it (unverified).
"""

from __future__ import annotations

from typing import Any

from pytest_kimi.media.mime import (
    IMAGE_MIME_TYPES,
    VIDEO_MIME_TYPES,
    canonical_mime,
    decode_data_url,
    sniff_mime,
)

__all__ = ["check_content_part", "check_message_content"]

_URL_KEYS = {"image_url": "image", "video_url": "video"}
_REMOTE_SCHEMES = ("http://", "https://", "ms://")
_IMAGE_NAMES = "png, jpeg, webp, gif"
_VIDEO_NAMES = "mp4, mpeg, mov, avi, x-flv, mpg, webm, wmv, 3gpp"


def check_content_part(part: Any, *, allow_video: bool) -> str | None:
    """Return an API-style error message for an invalid content part, or ``None``.

    Args:
        part: One element of a message's ``content`` list.
        allow_video: Whether the model takes ``video_url`` parts.

    Returns:
        ``None`` when the part is valid, else a message such as ``"Invalid image_url:
        declared MIME type 'image/png' does not match the data, which is image/jpeg"``.
        An ``image_url`` or ``video_url`` may be a bare string or an object with a
        ``url`` string. http(s) and ``ms://`` URLs are accepted without being fetched.
    """
    if not isinstance(part, dict):
        return f"Invalid content part: expected an object, got {type(part).__name__}"
    part_type = part.get("type")
    if part_type == "text":
        if not isinstance(part.get("text"), str):
            return "Invalid text part: 'text' must be a string"
        return None
    if part_type not in _URL_KEYS:
        return (
            f"Invalid content part type {part_type!r}: expected one of "
            "'text', 'image_url', 'video_url'"
        )
    if part_type == "video_url" and not allow_video:
        return "Invalid video_url: this model does not support video input"
    url = _part_url(part, part_type)
    if url is None:
        return f"Invalid {part_type}: expected a URL string or an object with a string 'url' field"
    return _check_url(url, part_type)


def check_message_content(content: Any, *, allow_video: bool) -> str | None:
    """Check a message's ``content``: a string, or a list of valid content parts.

    Returns:
        ``None`` when valid, else the message for the first invalid part, prefixed with
        its index as ``content[<i>]``.
    """
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return (
            f"Invalid message content: expected a string or a list of content parts, "
            f"got {type(content).__name__}"
        )
    for index, part in enumerate(content):
        error = check_content_part(part, allow_video=allow_video)
        if error is not None:
            return f"content[{index}]: {error}"
    return None


def _part_url(part: dict[str, Any], part_type: str) -> str | None:
    value = part.get(part_type)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        url: str = value["url"]
        return url
    return None


def _check_url(url: str, part_type: str) -> str | None:
    if url.startswith(_REMOTE_SCHEMES):
        return None
    if not url.startswith("data:"):
        return (
            f"Invalid {part_type}: unsupported URL {url[:40]!r}; expected a base64 data URL, "
            "an http(s) URL or an ms://<file-id> reference"
        )
    try:
        declared, data = decode_data_url(url)
    except ValueError as exc:
        return f"Invalid {part_type}: {exc}"
    return _check_data(declared, data, _URL_KEYS[part_type], part_type)


def _check_data(declared: str, data: bytes, kind: str, part_type: str) -> str | None:
    supported = IMAGE_MIME_TYPES if kind == "image" else VIDEO_MIME_TYPES
    names = _IMAGE_NAMES if kind == "image" else _VIDEO_NAMES
    canonical = canonical_mime(declared)
    if canonical not in supported:
        return (
            f"Invalid {part_type}: unsupported {kind} format {declared!r}; "
            f"supported formats are {names}"
        )
    if not data:
        return f"Invalid {part_type}: the data URL for {declared!r} is empty"
    sniffed = sniff_mime(data)
    if sniffed is None:
        return f"Invalid {part_type}: the data is not a recognised {kind} (declared {declared!r})"
    if sniffed != canonical:
        return (
            f"Invalid {part_type}: declared MIME type {declared!r} does not match the data, "
            f"which is {sniffed}"
        )
    return None

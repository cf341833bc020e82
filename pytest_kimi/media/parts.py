"""Content parts of OpenAI-compatible chat messages, as plain dictionaries."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["ContentPart", "Detail", "image_url_part", "video_url_part"]

#: One element of a message's ``content`` list, for example ``{"type": "text", ...}``.
ContentPart = dict[str, Any]

#: OpenAI's ``image_url.detail`` hint. Moonshot's API reference does not document it.
Detail = Literal["auto", "low", "high"]


def image_url_part(url: str, detail: Detail | None = None) -> ContentPart:
    """Return ``{"type": "image_url", "image_url": {"url": url}}``, with ``detail`` if given."""
    image_url: dict[str, str] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


def video_url_part(url: str) -> ContentPart:
    """Return ``{"type": "video_url", "video_url": {"url": url}}``."""
    return {"type": "video_url", "video_url": {"url": url}}

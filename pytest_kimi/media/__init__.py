"""Multimodal inputs for chat requests: images, animations, video and known-answer images.

``image_part`` and ``video_part`` build OpenAI content parts with base64 data URLs whose
MIME type is sniffed from the bytes. ``check_content_part`` validates incoming parts for
the emulator. The generators in ``pytest_kimi.media.generators`` draw charts, forms,
tables and hidden text together with their ground truth.
"""

from __future__ import annotations

from pytest_kimi.media.errors import CapabilitySkip, MediaError
from pytest_kimi.media.generators import (
    TRUTH_CHUNK,
    Generated,
    bar_chart,
    form_screenshot,
    hidden_text_image,
    line_chart,
    pie_chart,
    read_embedded_truth,
    table_image,
)
from pytest_kimi.media.history import find_dropped_media, media_parts, next_turn
from pytest_kimi.media.images import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS,
    ImageSource,
    image_frames,
    image_part,
)
from pytest_kimi.media.mime import decode_data_url, encode_data_url, sniff_mime
from pytest_kimi.media.parts import ContentPart
from pytest_kimi.media.validation import check_content_part, check_message_content
from pytest_kimi.media.video import (
    VIDEO_EXTRA_INSTALL,
    video_frames,
    video_or_frames,
    video_part,
)

__all__ = [
    "CapabilitySkip",
    "ContentPart",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "Generated",
    "ImageSource",
    "MediaError",
    "TRUTH_CHUNK",
    "VIDEO_EXTRA_INSTALL",
    "bar_chart",
    "check_content_part",
    "check_message_content",
    "decode_data_url",
    "encode_data_url",
    "find_dropped_media",
    "form_screenshot",
    "hidden_text_image",
    "image_frames",
    "image_part",
    "line_chart",
    "media_parts",
    "next_turn",
    "pie_chart",
    "read_embedded_truth",
    "sniff_mime",
    "table_image",
    "video_frames",
    "video_or_frames",
    "video_part",
]

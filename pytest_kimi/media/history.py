"""Multi-turn conversations that keep earlier images in the history.

The API keeps no state between requests, so a model can only look at an image from an
earlier turn if every later request sends that image part again, exactly as first sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_kimi.media.parts import ContentPart

__all__ = ["Message", "find_dropped_media", "media_parts", "next_turn"]

#: One chat message, for example ``{"role": "user", "content": [...]}``.
Message = dict[str, Any]

_MEDIA_TYPES = ("image_url", "video_url")


def media_parts(messages: Sequence[Message]) -> list[tuple[int, int, ContentPart]]:
    """List the image and video parts of a conversation.

    Returns:
        ``(message index, part index, part)`` for every ``image_url`` and ``video_url``
        part, in order.
    """
    found = []
    for message_index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part_index, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") in _MEDIA_TYPES:
                found.append((message_index, part_index, part))
    return found


def next_turn(
    history: Sequence[Message], reply: Message, user_content: str | list[ContentPart]
) -> list[Message]:
    """Return the messages of the next request: the history, the reply, a new user turn.

    The earlier messages are the same objects as in ``history``, so their image parts
    are sent again unchanged.

    Args:
        history: The messages of the previous request.
        reply: The assistant message the previous request returned.
        user_content: The content of the new user message.
    """
    return [*history, reply, {"role": "user", "content": user_content}]


def find_dropped_media(earlier: Sequence[Message], later: Sequence[Message]) -> str | None:
    """Check that a later request still carries every media part of an earlier one.

    Returns:
        ``None`` when each media part of ``earlier`` is at the same place in ``later``
        and equal to it, else a message naming the first part that was removed or changed.
    """
    for message_index, part_index, part in media_parts(earlier):
        try:
            resent = later[message_index]["content"][part_index]
        except (IndexError, KeyError, TypeError):
            resent = None
        if resent != part:
            return (
                f"messages[{message_index}].content[{part_index}] ({part['type']}) of the "
                "earlier request was removed or changed in the later request; send earlier "
                "media parts again unchanged, because the API keeps no history"
            )
    return None

from __future__ import annotations

import copy
import json

from PIL import Image

from pytest_kimi.media import find_dropped_media, image_part, media_parts, next_turn


def test_image_resent_unchanged_in_second_turn() -> None:
    image = image_part(Image.new("RGB", (16, 16), (200, 10, 10)))
    first = [{"role": "user", "content": [image, {"type": "text", "text": "Colour?"}]}]
    sent_first = json.dumps(first)

    second = next_turn(first, {"role": "assistant", "content": "Red."}, "And its size?")

    assert json.dumps(second[:1]) == sent_first
    assert second[0]["content"][0]["image_url"]["url"] == image["image_url"]["url"]
    assert [message["role"] for message in second] == ["user", "assistant", "user"]
    assert media_parts(second) == [(0, 0, image)]
    assert find_dropped_media(first, second) is None


def test_stripped_image_reported() -> None:
    image = image_part(Image.new("RGB", (4, 4)))
    first = [{"role": "user", "content": [image, {"type": "text", "text": "What is this?"}]}]
    stripped = copy.deepcopy(first)
    stripped[0]["content"] = [{"type": "text", "text": "What is this?"}]

    error = find_dropped_media(first, [*stripped, {"role": "user", "content": "again"}])

    assert error is not None
    assert error.startswith("messages[0].content[0] (image_url)")


def test_changed_image_reported() -> None:
    first = [{"role": "user", "content": [image_part(Image.new("RGB", (4, 4)))]}]
    changed = [{"role": "user", "content": [image_part(Image.new("RGB", (4, 4), (1, 1, 1)))]}]

    assert find_dropped_media(first, changed) is not None

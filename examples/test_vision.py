"""Charts and screenshots with known answers, and a follow-up that needs the image."""

from __future__ import annotations

from pytest_kimi.media import bar_chart, form_screenshot


def test_chart_tallest_bar(kimi):
    chart = bar_chart(seed=7)

    reply = kimi.chat(
        [chart.part(), "Which product has the tallest bar in this chart?"], max_tokens=32768
    )

    assert chart.truth["max_label"] in reply.text.lower()


def test_screenshot_field_value(kimi):
    screenshot = form_screenshot(seed=2)
    email = screenshot.truth["fields"]["Email"]

    reply = kimi.chat(
        [screenshot.part(), "What is written in the Email field of this form?"], max_tokens=32768
    )

    assert email in reply.text


def test_visual_follow_up_remembers_the_image(kimi):
    chart = bar_chart(seed=11)
    conversation = kimi.conversation(max_tokens=32768)
    conversation.send([chart.part(), "Here is a chart. What is its title?"])

    reply = conversation.send("Which product has the shortest bar?")

    assert chart.truth["min_label"] in reply.text.lower()
    # The image stays in the history, exactly as it was first sent.
    assert conversation.messages[0]["content"][0] == chart.part()

"""Readable rendering of Block Kit (bot.emulator.text)."""

from __future__ import annotations

from typing import Any

from bot.emulator.text import DIVIDER, block_texts, blocks_to_text, message_to_text, mrkdwn_to_text


def test_fallback_when_there_are_no_blocks() -> None:
    assert blocks_to_text([], fallback="Hello &lt;you&gt;") == "Hello <you>"
    assert blocks_to_text(None) == ""


def test_request_card_renders_like_slack() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Access request"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*<@U0ALICE>* asks for `gpt-5`"},
            "fields": [{"type": "mrkdwn", "text": "*Until:* Friday"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Reason: tests &amp; demos"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Approve"}, "action_id": "a"},
                {"type": "button", "text": {"type": "plain_text", "text": "Deny"}, "action_id": "d"},
                {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Duration"}},
            ],
        },
        {"type": "image", "image_url": "https://x/y.png", "alt_text": "chart"},
    ]
    assert blocks_to_text(blocks).splitlines() == [
        "Access request",
        "==============",
        "*@U0ALICE* asks for `gpt-5`",
        "  *Until:* Friday",
        "Reason: tests & demos",
        DIVIDER,
        "[Approve] [Deny] [select: Duration]",
        "[image: chart]",
    ]


def test_input_blocks_show_label_and_element_kind() -> None:
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Justification"},
            "element": {"type": "plain_text_input", "placeholder": {"type": "plain_text", "text": "Why?"}},
            "hint": {"type": "plain_text", "text": "Be specific"},
        },
        {
            "type": "input",
            "optional": True,
            "label": {"type": "plain_text", "text": "Until"},
            "element": {"type": "datepicker"},
        },
    ]
    assert blocks_to_text(blocks).splitlines() == [
        "Justification: [plain text input: Why?]",
        "  (Be specific)",
        "Until (optional): [datepicker]",
    ]


def test_section_accessory_and_rich_text() -> None:
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Pending"},
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Cancel"}},
        },
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "line one"}]},
                {"type": "rich_text_section", "elements": [{"type": "user", "user_id": "U1"}]},
            ],
        },
    ]
    assert blocks_to_text(blocks).splitlines() == ["Pending", "  [Cancel]", "line one", "@U1"]


def test_links_mentions_and_escaping() -> None:
    assert mrkdwn_to_text("<https://x.example|the docs> and <https://y.example>") == (
        "the docs (https://x.example) and https://y.example"
    )
    assert mrkdwn_to_text("<!here> <#C1|general> <!subteam^S1|@admins>") == "@here #general @admins"
    # Escaped user text stays literal: it must not turn into a mention when rendered.
    assert mrkdwn_to_text("&lt;!channel&gt; &amp;lt;") == "<!channel> &lt;"


def test_message_to_text_and_block_texts() -> None:
    assert message_to_text({"text": "plain &amp; simple", "blocks": []}) == "plain & simple"
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "shown"}}]
    assert message_to_text({"text": "fallback", "blocks": blocks}) == "shown"
    assert block_texts(blocks) == "shown"

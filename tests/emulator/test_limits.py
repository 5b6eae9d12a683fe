"""One test per Block Kit limit enforced by bot.emulator.limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator.limits import check_message, check_update_text, check_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(
    text: str = "Approve", value: str = "v", action_id: str = "approve", **extra: Any
) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "value": value, "action_id": action_id, **extra}


def option(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def select(options: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick")}
    if options is not None:
        element["options"] = options
    return {**element, **extra}


def message(*blocks: dict[str, Any], text: str | None = "fallback") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def input_block(element: dict[str, Any], label: str = "Reason", **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": "reason", "label": plain(label), "element": element, **extra}


def modal(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "title": plain("Request access"), "blocks": list(blocks)}
    view["submit"] = plain("Send")
    view.update(extra)
    return view


def only(problems: list[str], fragment: str) -> None:
    assert problems, f"expected a violation mentioning {fragment!r}"
    assert any(fragment in p for p in problems), problems


# -- messages ------------------------------------------------------------------------------------


def test_valid_message_has_no_violations() -> None:
    payload = message(
        {"type": "header", "text": plain("Access request")},
        section("*Alice* wants *gpt-5*", accessory=button()),
        {"type": "context", "elements": [mrkdwn("requested 5 min ago")]},
        {"type": "divider"},
        actions(
            button("Approve", action_id="a", style="primary"), button("Deny", action_id="d", style="danger")
        ),
    )
    assert check_message(payload) == []


def test_text_only_message_is_valid_and_blocks_as_json_string_are_checked() -> None:
    assert check_message({"text": "hi"}) == []
    only(check_message({"text": "hi", "blocks": '[{"type": "section"}]'}), "section needs text or fields")


def test_too_many_message_blocks() -> None:
    assert check_message(message(*[section()] * 50)) == []
    only(check_message(message(*[section()] * 51)), "51 blocks (max 50)")


def test_missing_fallback_text() -> None:
    only(check_message(message(section(), text=None)), "missing fallback text")
    only(check_message(message(section(), text="   ")), "missing fallback text")


def test_message_text_length() -> None:
    assert check_message({"text": "x" * 40_000}) == []
    only(check_message({"text": "x" * 40_001}), "max 40000")


def test_section_text_length() -> None:
    assert check_message(message(section("x" * 3000))) == []
    only(check_message(message(section("x" * 3001))), "max 3000")
    only(check_message(message(section(""))), "at least 1")


def test_section_text_must_be_a_text_object() -> None:
    only(check_message(message({"type": "section", "text": "bare string"})), "must be a text object")


def test_section_fields() -> None:
    ok = {"type": "section", "fields": [mrkdwn("f")] * 10}
    assert check_message(message(ok)) == []
    only(check_message(message({"type": "section", "fields": [mrkdwn("f")] * 11})), "11 fields (max 10)")
    only(check_message(message({"type": "section", "fields": [mrkdwn("x" * 2001)]})), "max 2000")


def test_header_length_and_type() -> None:
    assert check_message(message({"type": "header", "text": plain("x" * 150)})) == []
    only(check_message(message({"type": "header", "text": plain("x" * 151)})), "max 150")
    only(check_message(message({"type": "header", "text": mrkdwn("*x*")})), "type must be plain_text")


def test_context_elements() -> None:
    assert check_message(message({"type": "context", "elements": [mrkdwn("c")] * 10})) == []
    only(check_message(message({"type": "context", "elements": [mrkdwn("c")] * 11})), "11 elements (max 10)")


def test_actions_elements() -> None:
    many = [button(action_id=f"b{i}") for i in range(26)]
    assert check_message(message(actions(*many[:25]))) == []
    only(check_message(message(actions(*many))), "26 elements (max 25)")


def test_duplicate_action_ids_in_one_block_and_duplicate_block_ids() -> None:
    only(check_message(message(actions(button(), button()))), "duplicate action_id")
    twice = section(block_id="same")
    only(check_message(message(twice, twice)), "duplicate block_id")


def test_button_text_and_value() -> None:
    assert check_message(message(actions(button("x" * 75, "v" * 2000)))) == []
    only(check_message(message(actions(button("x" * 76)))), "max 75")
    only(check_message(message(actions(button(value="v" * 2001)))), "max 2000")
    only(check_message(message(actions(button(style="blue")))), "style")


def test_action_id_and_block_id_length() -> None:
    assert check_message(message(actions(button(action_id="a" * 255)))) == []
    only(check_message(message(actions(button(action_id="a" * 256)))), "action_id: is 256 chars (max 255)")
    only(check_message(message(section(block_id="b" * 256))), "block_id: is 256 chars (max 255)")


def test_option_text_and_value() -> None:
    assert check_message(message(section(accessory=select([option("x" * 75, "v" * 150)])))) == []
    only(check_message(message(section(accessory=select([option("x" * 76)])))), "max 75")
    only(check_message(message(section(accessory=select([option(value="v" * 151)])))), "max 150")


def test_select_option_count_including_option_groups() -> None:
    hundred = [option(value=str(i)) for i in range(100)]
    assert check_message(message(section(accessory=select(hundred)))) == []
    only(check_message(message(section(accessory=select([*hundred, option()])))), "101 options (max 100)")
    groups = [{"label": plain("G"), "options": [*hundred, option()]}]
    only(check_message(message(section(accessory=select(option_groups=groups)))), "option_groups[0].options")
    bad_label = [{"label": plain("x" * 76), "options": [option()]}]
    only(check_message(message(section(accessory=select(option_groups=bad_label)))), "label")
    only(check_message(message(section(accessory=select()))), "needs options or option_groups")


def test_confirm_dialog_is_walked() -> None:
    confirm = {
        "title": plain("x" * 101),
        "text": plain("Sure?"),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }
    only(check_message(message(actions(button(confirm=confirm)))), "confirm.title")


def test_placeholder_length() -> None:
    only(
        check_message(message(section(accessory=select([option()], placeholder=plain("x" * 151))))), "max 150"
    )


def test_unknown_block_type_is_reported_by_the_sdk_parse() -> None:
    only(check_message(message({"type": "no_such_block"})), "unknown block type")


def test_image_needs_alt_text() -> None:
    only(check_message(message({"type": "image", "image_url": "https://x/y.png"})), "alt_text")


def test_update_text_limit() -> None:
    assert check_update_text("x" * 4000) == []
    assert check_update_text(None) == []
    only(check_update_text("x" * 4001), "msg_too_long")


# -- views ---------------------------------------------------------------------------------------


def test_valid_modal_and_home() -> None:
    text_input = {"type": "plain_text_input", "action_id": "text", "max_length": 500}
    assert check_view(modal(input_block(text_input, hint=plain("Why?")))) == []
    assert check_view({"type": "home", "blocks": [section()]}) == []


def test_view_type_and_title() -> None:
    only(check_view({"type": "dialog", "blocks": []}), "view.type")
    only(check_view({"type": "modal", "blocks": []}), "needs a title")


@pytest.mark.parametrize("key", ["title", "submit", "close"])
def test_view_title_submit_close_length(key: str) -> None:
    assert check_view(modal(**{key: plain("x" * 24)})) == []
    only(check_view(modal(**{key: plain("x" * 25)})), f"view.{key}: text is 25 chars (max 24)")


def test_modal_with_inputs_needs_submit() -> None:
    view = modal(input_block({"type": "plain_text_input", "action_id": "t"}))
    del view["submit"]
    only(check_view(view), "needs a submit")


def test_view_block_count() -> None:
    assert check_view(modal(*[section()] * 100)) == []
    only(check_view(modal(*[section()] * 101)), "101 blocks (max 100)")


def test_private_metadata_callback_id_and_size() -> None:
    only(check_view(modal(private_metadata="x" * 3001)), "private_metadata")
    only(check_view(modal(callback_id="c" * 256)), "callback_id")
    huge = modal(*[section("x" * 3000)] * 90)  # under 100 blocks, but over 250 kB of JSON
    only(check_view(huge), "bytes of JSON (max 250000)")


def test_input_label_hint_and_plain_text_input_lengths() -> None:
    element = {"type": "plain_text_input", "action_id": "t"}
    only(check_view(modal(input_block(element, label="x" * 2001))), "label: text is 2001 chars")
    only(check_view(modal(input_block(element, hint=plain("x" * 2001)))), "hint: text is 2001 chars")
    only(check_view(modal(input_block({**element, "max_length": 3001}))), "max_length")
    only(check_view(modal(input_block({**element, "max_length": 0}))), "max_length")
    only(check_view(modal(input_block({**element, "min_length": 3001}))), "min_length")
    only(check_view(modal(input_block({**element, "placeholder": plain("x" * 151)}))), "placeholder")


def test_choice_options_limit() -> None:
    radios = {"type": "radio_buttons", "action_id": "r", "options": [option(value=str(i)) for i in range(11)]}
    only(check_view(modal(input_block(radios))), "11 options (max 10)")

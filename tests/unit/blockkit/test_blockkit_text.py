"""Escaping, markup, truncation and Block Kit limits in copbot.blockkit."""

from __future__ import annotations

from typing import Any

import pytest

from copbot.blockkit import (
    LIMITS,
    BlockKitLimitError,
    channel_link,
    check,
    escape,
    link,
    mention,
    truncate,
    violations,
)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def message(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"text": "fallback", "blocks": list(blocks)}


def modal(*blocks: dict[str, Any], title: str = "Title") -> dict[str, Any]:
    return {"type": "modal", "title": plain(title), "close": plain("Close"), "blocks": list(blocks)}


def button(label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "action_id": "go", **extra}


def option(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def select_block(options: list[dict[str, Any]]) -> dict[str, Any]:
    element = {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"), "options": options}
    return {"type": "input", "block_id": "pick", "label": plain("Pick one"), "element": element}


# --- escape ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here> now", "&lt;!here&gt; now"),
        ("hey <@U123>", "hey &lt;@U123&gt;"),
        ("<http://evil|click>", "&lt;http://evil|click&gt;"),
        ("fish & chips", "fish &amp; chips"),
        ("&amp;", "&amp;amp;"),  # raw user text: the user typed the five characters, show them
        ("a > b < c", "a &gt; b &lt; c"),
        ("nothing special", "nothing special"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_escape_leaves_no_markup_delimiters() -> None:
    assert not set("<>") & set(escape("<!channel> <@U1> <#C1> <http://x|y>"))


# --- mention / channel_link / link -----------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["U123", "W0ABCDEF", "U0A1B2C3D"])
def test_mention_accepts_user_ids(user_id: str) -> None:
    assert mention(user_id) == f"<@{user_id}>"


@pytest.mark.parametrize(
    "user_id", ["", "U", "u123", "C123", "U123>", "U12 3", "U123\n", "U123|x", "!channel"]
)
def test_mention_refuses_other_strings(user_id: str) -> None:
    with pytest.raises(ValueError, match="user id"):
        mention(user_id)


@pytest.mark.parametrize("channel_id", ["C123", "G0ABC", "D0A1B2"])
def test_channel_link_accepts_conversation_ids(channel_id: str) -> None:
    assert channel_link(channel_id) == f"<#{channel_id}>"


@pytest.mark.parametrize("channel_id", ["", "C", "c123", "U123", "C123>", "C123\n", "!here"])
def test_channel_link_refuses_other_strings(channel_id: str) -> None:
    with pytest.raises(ValueError, match="channel id"):
        channel_link(channel_id)


def test_link_escapes_the_label() -> None:
    assert link("https://example.com/a?b=1&c=2", "<!channel> & co") == (
        "<https://example.com/a?b=1&c=2|&lt;!channel&gt; &amp; co>"
    )


def test_link_accepts_http() -> None:
    assert link("http://example.com", "site") == "<http://example.com|site>"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com",
        "slack://open",
        "example.com",
        "https://",
        "https://example.com/a|b",
        "https://example.com/<!channel>",
        "https://example.com/>",
        "https://example.com/a b",
        "https://example.com/\n",
        "https://example.com/\t",
    ],
)
def test_link_refuses_unsafe_urls(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        link(url, "label")


# --- truncate --------------------------------------------------------------------------------------


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("hello", 5) == "hello"
    assert truncate("hi", 100) == "hi"


def test_truncate_cuts_to_limit_including_ellipsis() -> None:
    result = truncate("abcdefghij", 5)
    assert result == "abcd…"
    assert len(result) == 5


def test_truncate_with_custom_ellipsis() -> None:
    assert truncate("abcdefghij", 6, ellipsis="...") == "abc..."


@pytest.mark.parametrize("limit", [4, 5, 6, 7])
def test_truncate_never_splits_an_entity(limit: int) -> None:
    text = escape("abc&def")  # "abc&amp;def"
    result = truncate(text, limit)
    assert result == "abc…"


def test_truncate_keeps_a_whole_entity_that_fits() -> None:
    assert truncate(escape("abc&def"), 9) == "abc&amp;…"


def test_truncate_never_splits_markup() -> None:
    text = f"by {mention('U12345')} today"
    assert truncate(text, 8) == "by…"
    assert truncate(text, 14) == "by <@U12345>…"  # the space before the cut goes too
    assert truncate(text, 13) == "by <@U12345>…"
    assert truncate(text, 12) == "by…"


def test_truncate_ends_on_a_whole_word() -> None:
    lesson = "Check replication lag before starting, then automate the runbook"
    assert truncate(lesson, 30) == "Check replication lag before…"
    assert truncate("Check the lag, then go", 17) == "Check the lag…"  # no dangling comma
    assert truncate("a https://example.com/very/long/path", 30) == "a https://example.com/very/lo…"


def test_truncate_tiny_limits() -> None:
    assert truncate("abcdef", 1) == "…"
    assert truncate("abcdef", 0) == ""
    with pytest.raises(ValueError):
        truncate("abc", -1)


# --- limits: messages ------------------------------------------------------------------------------


def test_valid_message_passes() -> None:
    payload = message(
        {"type": "header", "text": plain("Hello")},
        section("*hi*", block_id="intro", accessory=button(value="1")),
        {"type": "divider"},
        {"type": "context", "elements": [mrkdwn("small print")]},
        {"type": "actions", "block_id": "acts", "elements": [button(), button("Stop", action_id="stop")]},
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a"},
    )
    assert violations(payload, surface="message") == []
    assert check(payload, surface="message") is payload


def test_fifty_blocks_in_a_message_pass_and_fifty_one_fail() -> None:
    assert violations(message(*[section() for _ in range(50)]), surface="message") == []
    found = violations(message(*[section() for _ in range(51)]), surface="message")
    assert found == ["blocks: 51 items > 50"]


def test_section_text_of_3001_characters_fails() -> None:
    assert violations(message(section("x" * 3000)), surface="message") == []
    found = violations(message(section(), section("x" * 3001)), surface="message")
    assert found == ["blocks[1].text.text: 3001 characters > 3000"]


def test_button_text_of_76_characters_fails() -> None:
    ok = message({"type": "actions", "elements": [button("b" * 75)]})
    bad = message(section(), {"type": "actions", "elements": [button("b" * 76)]})
    assert violations(ok, surface="message") == []
    assert violations(bad, surface="message") == ["blocks[1].elements[0].text.text: 76 characters > 75"]


def test_context_with_eleven_elements_fails() -> None:
    ok = message({"type": "context", "elements": [mrkdwn("x")] * 10})
    bad = message({"type": "context", "elements": [mrkdwn("x")] * 11})
    assert violations(ok, surface="message") == []
    assert violations(bad, surface="message") == ["blocks[0].elements: 11 items > 10"]


def test_duplicate_block_id_fails() -> None:
    payload = message(section(block_id="a"), section(block_id="b"), section(block_id="a"))
    found = violations(payload, surface="message")
    assert found == ["blocks[2].block_id: duplicate 'a' in this payload (first at blocks[0].block_id)"]


def test_duplicate_action_id_within_a_block_fails_but_across_blocks_passes() -> None:
    across = message({"type": "actions", "elements": [button()]}, {"type": "actions", "elements": [button()]})
    within = message({"type": "actions", "elements": [button(), button()]})
    assert violations(across, surface="message") == []
    assert violations(within, surface="message") == [
        "blocks[0].elements[1].action_id: duplicate 'go' in this block"
        " (first at blocks[0].elements[0].action_id)"
    ]


def test_top_level_text_over_40000_fails() -> None:
    found = violations({"text": "x" * 40001, "blocks": []}, surface="message")
    assert found == ["text: 40001 characters > 40000"]


def test_header_must_be_plain_text_and_short() -> None:
    found = violations(message({"type": "header", "text": mrkdwn("h" * 151)}), surface="message")
    assert found == [
        "blocks[0].text.type: 'mrkdwn' is not one of plain_text",
        "blocks[0].text.text: 151 characters > 150",
    ]


def test_section_fields_limits() -> None:
    fields = [mrkdwn("f")] * 10 + [mrkdwn("g" * 2001)]
    found = violations(message({"type": "section", "fields": fields}), surface="message")
    assert found == ["blocks[0].fields: 11 items > 10", "blocks[0].fields[10].text: 2001 characters > 2000"]


def test_empty_text_fails() -> None:
    assert violations(message(section("")), surface="message") == ["blocks[0].text.text: must not be empty"]


def test_unknown_block_and_element_types_are_not_errors() -> None:
    payload = message(
        {"type": "rich_text", "elements": [{"whatever": True}]},
        {"type": "actions", "elements": [{"type": "future_widget", "action_id": "f", "data": "x" * 9999}]},
    )
    assert violations(payload, surface="message") == []


def test_overflow_allows_five_options() -> None:
    def overflow(count: int) -> dict[str, Any]:
        menu = {"type": "overflow", "action_id": "o", "options": [option()] * count}
        return message(section(accessory=menu))

    assert violations(overflow(5), surface="message") == []
    assert violations(overflow(6), surface="message") == ["blocks[0].accessory.options: 6 items > 5"]


def test_button_value_and_url_limits() -> None:
    long_button = button(value="v" * 2001, url="https://x/" + "u" * 3000)
    payload = message({"type": "actions", "elements": [long_button]})
    assert violations(payload, surface="message") == [
        "blocks[0].elements[0].value: 2001 characters > 2000",
        "blocks[0].elements[0].url: 3010 characters > 3000",
    ]


def test_check_raises_with_every_violation() -> None:
    payload = message(section("x" * 3001, block_id="a"), section(block_id="a"))
    with pytest.raises(BlockKitLimitError) as raised:
        check(payload, surface="message")
    assert raised.value.violations == [
        "blocks[0].text.text: 3001 characters > 3000",
        "blocks[1].block_id: duplicate 'a' in this payload (first at blocks[0].block_id)",
    ]
    assert "blocks[0].text.text" in str(raised.value)
    assert isinstance(raised.value, ValueError)


# --- limits: views ---------------------------------------------------------------------------------


def test_hundred_blocks_in_a_modal_pass_and_hundred_one_fail() -> None:
    assert violations(modal(*[section() for _ in range(100)]), surface="modal") == []
    assert violations(modal(*[section() for _ in range(101)]), surface="modal") == ["blocks: 101 items > 100"]


def test_home_tab_allows_hundred_blocks() -> None:
    home = {"type": "home", "blocks": [section() for _ in range(100)]}
    assert violations(home, surface="home") == []
    home["blocks"].append(section())
    assert violations(home, surface="home") == ["blocks: 101 items > 100"]


def test_modal_title_of_25_characters_fails() -> None:
    assert violations(modal(section(), title="t" * 24), surface="modal") == []
    assert violations(modal(section(), title="t" * 25), surface="modal") == ["title.text: 25 characters > 24"]


def test_modal_metadata_and_callback_limits() -> None:
    view = modal(section()) | {"private_metadata": "m" * 3001, "callback_id": "c" * 256}
    assert violations(view, surface="modal") == [
        "private_metadata: 3001 characters > 3000",
        "callback_id: 256 characters > 255",
    ]


def test_modal_with_inputs_needs_submit() -> None:
    view = modal(select_block([option()]))
    found = violations(view, surface="modal")
    assert found == ["submit: missing; a modal with input blocks needs a submit button"]
    assert violations(view | {"submit": plain("Save")}, surface="modal") == []


def test_view_type_must_match_surface() -> None:
    found = violations({"type": "home", "blocks": []}, surface="modal")
    assert found[0] == "type: 'home' checked as a modal view"


def submitted(*blocks: dict[str, Any]) -> dict[str, Any]:
    return modal(*blocks) | {"submit": plain("Save")}


def test_option_value_of_151_characters_fails() -> None:
    assert violations(submitted(select_block([option(value="v" * 150)])), surface="modal") == []
    found = violations(submitted(select_block([option(), option(value="v" * 151)])), surface="modal")
    assert found == ["blocks[0].element.options[1].value: 151 characters > 150"]


def test_option_text_of_76_characters_fails() -> None:
    found = violations(submitted(select_block([option(text="o" * 76)])), surface="modal")
    assert found == ["blocks[0].element.options[0].text.text: 76 characters > 75"]


def test_hundred_one_options_fail() -> None:
    options = [option(value=str(n)) for n in range(101)]
    assert violations(submitted(select_block(options[:100])), surface="modal") == []
    assert violations(submitted(select_block(options)), surface="modal") == [
        "blocks[0].element.options: 101 items > 100"
    ]


def test_option_groups_are_checked() -> None:
    block = select_block([])
    del block["element"]["options"]
    block["element"]["option_groups"] = [{"label": plain("g" * 76), "options": [option(value="v" * 151)]}]
    assert violations(submitted(block), surface="modal") == [
        "blocks[0].element.option_groups[0].label.text: 76 characters > 75",
        "blocks[0].element.option_groups[0].options[0].value: 151 characters > 150",
    ]


def test_initial_option_is_checked() -> None:
    block = select_block([option()])
    block["element"]["initial_option"] = option(value="v" * 151)
    found = violations(submitted(block), surface="modal")
    assert found == ["blocks[0].element.initial_option.value: 151 characters > 150"]


def test_input_label_hint_and_text_input_limits() -> None:
    element = {
        "type": "plain_text_input",
        "action_id": "a" * 256,
        "placeholder": plain("p" * 151),
        "initial_value": "abcdef",
        "max_length": 5,
    }
    block = {"type": "input", "label": plain("l" * 2001), "hint": plain("h" * 2001), "element": element}
    assert violations(submitted(block), surface="modal") == [
        "blocks[0].label.text: 2001 characters > 2000",
        "blocks[0].hint.text: 2001 characters > 2000",
        "blocks[0].element.action_id: 256 characters > 255",
        "blocks[0].element.placeholder.text: 151 characters > 150",
        "blocks[0].element.initial_value: 6 characters > max_length 5",
    ]


def test_text_input_max_length_over_3000_fails() -> None:
    element = {"type": "plain_text_input", "action_id": "t", "max_length": 3001}
    found = violations(submitted({"type": "input", "label": plain("L"), "element": element}), surface="modal")
    assert found == ["blocks[0].element.max_length: 3001 > 3000"]


def test_checkboxes_allow_ten_options() -> None:
    def checkboxes(count: int) -> dict[str, Any]:
        element = {"type": "checkboxes", "action_id": "c", "options": [option()] * count}
        return submitted({"type": "input", "label": plain("L"), "element": element})

    assert violations(checkboxes(10), surface="modal") == []
    assert violations(checkboxes(11), surface="modal") == ["blocks[0].element.options: 11 items > 10"]


def test_limits_are_slacks() -> None:
    assert (LIMITS.message_blocks, LIMITS.modal_blocks, LIMITS.home_blocks) == (50, 100, 100)
    assert (LIMITS.section_text, LIMITS.header_text, LIMITS.modal_title) == (3000, 150, 24)
    with pytest.raises(AttributeError):
        LIMITS.message_blocks = 51  # type: ignore[misc]

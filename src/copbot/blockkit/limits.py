"""Block Kit's limits: `check` walks a message or a view and raises `BlockKitLimitError` naming every
limit the payload breaks, so a builder fails in tests instead of Slack answering `invalid_blocks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]


@dataclass(frozen=True)
class Limits:
    """Slack's published Block Kit limits (characters for text, items for lists)."""

    message_blocks: int = 50
    modal_blocks: int = 100
    home_blocks: int = 100
    message_text: int = 40000
    section_text: int = 3000
    section_fields: int = 10
    section_field_text: int = 2000
    header_text: int = 150
    context_elements: int = 10
    actions_elements: int = 25
    image_url: int = 3000
    image_alt_text: int = 2000
    image_title: int = 2000
    button_text: int = 75
    button_value: int = 2000
    action_id: int = 255
    block_id: int = 255
    url: int = 3000
    modal_title: int = 24
    modal_submit: int = 24
    modal_close: int = 24
    private_metadata: int = 3000
    callback_id: int = 255
    external_id: int = 255
    input_label: int = 2000
    input_hint: int = 2000
    placeholder: int = 150
    text_input_initial_value: int = 3000
    text_input_max_length: int = 3000
    option_text: int = 75
    option_value: int = 150
    option_description: int = 75
    options: int = 100
    option_groups: int = 100
    option_group_label: int = 75
    checkbox_options: int = 10
    radio_options: int = 10
    overflow_options: int = 5
    confirm_title: int = 100
    confirm_text: int = 300
    confirm_button: int = 30


LIMITS = Limits()


class BlockKitLimitError(ValueError):
    """A payload breaks Slack's Block Kit limits; `violations` lists each one with its JSON path."""

    def __init__(self, violations: list[str]):
        super().__init__("Block Kit limits broken: " + "; ".join(violations))
        self.violations = violations


def check(payload: dict[str, Any], *, surface: Surface) -> dict[str, Any]:
    """Return the payload unchanged, or raise BlockKitLimitError listing every limit it breaks."""
    found = violations(payload, surface=surface)
    if found:
        raise BlockKitLimitError(found)
    return payload


def violations(payload: dict[str, Any], *, surface: Surface) -> list[str]:
    """Every Block Kit limit the message payload or view breaks, each prefixed with its JSON path."""
    walk = _Walk()
    if surface == "message":
        walk.length("text", payload.get("text"), LIMITS.message_text)
    else:
        _view(walk, payload, surface)
    _blocks(walk, payload.get("blocks"), surface)
    return walk.found


# The walker collects violations instead of raising at the first, so one test run shows them all.
class _Walk:
    def __init__(self) -> None:
        self.found: list[str] = []
        self.block_ids: dict[str, str] = {}
        self.action_ids: dict[str, str] = {}  # reset per block: Slack scopes action ids to a block

    def add(self, path: str, problem: str) -> None:
        self.found.append(f"{path}: {problem}")

    def length(self, path: str, value: Any, limit: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {type(value).__name__}")
        elif len(value) > limit:
            self.add(path, f"{len(value)} characters > {limit}")

    def items(self, path: str, value: Any, limit: int, *, minimum: int = 0) -> list[Any]:
        """Check a list's size and return it (empty if absent or not a list)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"expected a list, got {type(value).__name__}")
            return []
        if len(value) > limit:
            self.add(path, f"{len(value)} items > {limit}")
        elif len(value) < minimum:
            self.add(path, f"{len(value)} items < {minimum}")
        return value

    def text(self, path: str, obj: Any, limit: int, *, plain: bool = False) -> None:
        """A text object: right type, non-empty, within `limit`."""
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.add(path, f"expected a text object, got {type(obj).__name__}")
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.add(f"{path}.type", f"{kind!r} is not one of {', '.join(allowed)}")
        value = obj.get("text")
        if isinstance(value, str) and not value:
            self.add(f"{path}.text", "must not be empty")
        elif value is None:
            self.add(f"{path}.text", "missing")
        self.length(f"{path}.text", value, limit)

    def unique(self, seen: dict[str, str], path: str, value: Any, scope: str) -> None:
        if not isinstance(value, str):
            return
        if value in seen:
            self.add(path, f"duplicate {value!r} in {scope} (first at {seen[value]})")
        else:
            seen[value] = path


def _view(walk: _Walk, view: dict[str, Any], surface: Surface) -> None:
    if view.get("type") != surface:
        walk.add("type", f"{view.get('type')!r} checked as a {surface} view")
    if surface == "modal":
        if view.get("title") is None:
            walk.add("title", "missing; a modal needs a title")
        walk.text("title", view.get("title"), LIMITS.modal_title, plain=True)
        walk.text("submit", view.get("submit"), LIMITS.modal_submit, plain=True)
        walk.text("close", view.get("close"), LIMITS.modal_close, plain=True)
        # Slack refuses a modal with inputs and nowhere to submit them.
        blocks = view.get("blocks") or []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            walk.add("submit", "missing; a modal with input blocks needs a submit button")
    walk.length("private_metadata", view.get("private_metadata"), LIMITS.private_metadata)
    walk.length("callback_id", view.get("callback_id"), LIMITS.callback_id)
    walk.length("external_id", view.get("external_id"), LIMITS.external_id)


_BLOCKS_PER_SURFACE: dict[str, int] = {
    "message": LIMITS.message_blocks,
    "modal": LIMITS.modal_blocks,
    "home": LIMITS.home_blocks,
}


def _blocks(walk: _Walk, blocks: Any, surface: Surface) -> None:
    limit = _BLOCKS_PER_SURFACE[surface]
    for index, block in enumerate(walk.items("blocks", blocks, limit)):
        path = f"blocks[{index}]"
        if not isinstance(block, dict):
            walk.add(path, f"expected a block object, got {type(block).__name__}")
            continue
        walk.length(f"{path}.block_id", block.get("block_id"), LIMITS.block_id)
        walk.unique(walk.block_ids, f"{path}.block_id", block.get("block_id"), "this payload")
        walk.action_ids = {}
        check_block = _BLOCKS.get(block.get("type", ""))
        if check_block:
            check_block(walk, path, block)


def _section(walk: _Walk, path: str, block: dict[str, Any]) -> None:
    if block.get("text") is None and block.get("fields") is None:
        walk.add(path, "a section needs text or fields")
    walk.text(f"{path}.text", block.get("text"), LIMITS.section_text)
    fields = walk.items(f"{path}.fields", block.get("fields"), LIMITS.section_fields)
    for index, field in enumerate(fields):
        walk.text(f"{path}.fields[{index}]", field, LIMITS.section_field_text)
    if block.get("accessory") is not None:
        _element(walk, f"{path}.accessory", block["accessory"])


def _header(walk: _Walk, path: str, block: dict[str, Any]) -> None:
    if block.get("text") is None:
        walk.add(f"{path}.text", "missing")
    walk.text(f"{path}.text", block.get("text"), LIMITS.header_text, plain=True)


def _context(walk: _Walk, path: str, block: dict[str, Any]) -> None:
    elements = walk.items(f"{path}.elements", block.get("elements"), LIMITS.context_elements, minimum=1)
    for index, element in enumerate(elements):
        element_path = f"{path}.elements[{index}]"
        if isinstance(element, dict) and element.get("type") == "image":
            _image(walk, element_path, element)
        else:
            walk.text(element_path, element, LIMITS.section_text)


def _actions(walk: _Walk, path: str, block: dict[str, Any]) -> None:
    elements = walk.items(f"{path}.elements", block.get("elements"), LIMITS.actions_elements, minimum=1)
    for index, element in enumerate(elements):
        _element(walk, f"{path}.elements[{index}]", element)


def _input(walk: _Walk, path: str, block: dict[str, Any]) -> None:
    if block.get("label") is None:
        walk.add(f"{path}.label", "missing")
    walk.text(f"{path}.label", block.get("label"), LIMITS.input_label, plain=True)
    walk.text(f"{path}.hint", block.get("hint"), LIMITS.input_hint, plain=True)
    if block.get("element") is None:
        walk.add(f"{path}.element", "missing")
    else:
        _element(walk, f"{path}.element", block["element"])


def _image(walk: _Walk, path: str, image: dict[str, Any]) -> None:
    """An image block or image element (the same fields matter for both)."""
    walk.length(f"{path}.image_url", image.get("image_url"), LIMITS.image_url)
    if image.get("alt_text") is None:
        walk.add(f"{path}.alt_text", "missing")
    walk.length(f"{path}.alt_text", image.get("alt_text"), LIMITS.image_alt_text)
    walk.text(f"{path}.title", image.get("title"), LIMITS.image_title, plain=True)


_BLOCKS: dict[str, Callable[[_Walk, str, dict[str, Any]], None]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "image": _image,
    "divider": lambda walk, path, block: None,  # only block_id, checked for every block
}


# --- elements --------------------------------------------------------------------------------------


def _element(walk: _Walk, path: str, element: Any) -> None:
    if not isinstance(element, dict):
        walk.add(path, f"expected an element object, got {type(element).__name__}")
        return
    # These fields mean the same on every interactive element, known type or not.
    walk.length(f"{path}.action_id", element.get("action_id"), LIMITS.action_id)
    walk.unique(walk.action_ids, f"{path}.action_id", element.get("action_id"), "this block")
    walk.text(f"{path}.placeholder", element.get("placeholder"), LIMITS.placeholder, plain=True)
    if element.get("confirm") is not None:
        _confirm(walk, f"{path}.confirm", element["confirm"])
    check_element = _ELEMENTS.get(element.get("type", ""))
    if check_element:
        check_element(walk, path, element)


def _button(walk: _Walk, path: str, button: dict[str, Any]) -> None:
    if button.get("text") is None:
        walk.add(f"{path}.text", "missing")
    walk.text(f"{path}.text", button.get("text"), LIMITS.button_text, plain=True)
    walk.length(f"{path}.value", button.get("value"), LIMITS.button_value)
    walk.length(f"{path}.url", button.get("url"), LIMITS.url)


def _select(walk: _Walk, path: str, select: dict[str, Any]) -> None:
    """Static selects: options or option groups, plus initial choices."""
    _options(walk, f"{path}.options", select.get("options"), LIMITS.options, plain=True)
    groups = walk.items(f"{path}.option_groups", select.get("option_groups"), LIMITS.option_groups)
    for index, group in enumerate(groups):
        group_path = f"{path}.option_groups[{index}]"
        if not isinstance(group, dict):
            walk.add(group_path, f"expected an option group, got {type(group).__name__}")
            continue
        walk.text(f"{group_path}.label", group.get("label"), LIMITS.option_group_label, plain=True)
        _options(walk, f"{group_path}.options", group.get("options"), LIMITS.options, plain=True)
    _initial(walk, path, select, plain=True)


def _initial(walk: _Walk, path: str, element: dict[str, Any], *, plain: bool) -> None:
    """`initial_option` / `initial_options`, which are option objects like any other."""
    if element.get("initial_option") is not None:
        _option(walk, f"{path}.initial_option", element["initial_option"], plain=plain)
    _options(walk, f"{path}.initial_options", element.get("initial_options"), LIMITS.options, plain=plain)


def _text_input(walk: _Walk, path: str, element: dict[str, Any]) -> None:
    initial = element.get("initial_value")
    walk.length(f"{path}.initial_value", initial, LIMITS.text_input_initial_value)
    for key in ("max_length", "min_length"):
        value = element.get(key)
        if isinstance(value, int) and value > LIMITS.text_input_max_length:
            walk.add(f"{path}.{key}", f"{value} > {LIMITS.text_input_max_length}")
    max_length = element.get("max_length")
    if isinstance(initial, str) and isinstance(max_length, int) and len(initial) > max_length:
        walk.add(f"{path}.initial_value", f"{len(initial)} characters > max_length {max_length}")


def _choices(limit: int) -> Callable[[_Walk, str, dict[str, Any]], None]:
    """Checkboxes, radio buttons and overflow menus: a short list of options (mrkdwn allowed)."""

    def check_choices(walk: _Walk, path: str, element: dict[str, Any]) -> None:
        _options(walk, f"{path}.options", element.get("options"), limit, plain=False, minimum=1)
        _initial(walk, path, element, plain=False)

    return check_choices


def _options(walk: _Walk, path: str, options: Any, limit: int, *, plain: bool, minimum: int = 0) -> None:
    for index, option in enumerate(walk.items(path, options, limit, minimum=minimum)):
        _option(walk, f"{path}[{index}]", option, plain=plain)


def _option(walk: _Walk, path: str, option: Any, *, plain: bool) -> None:
    if not isinstance(option, dict):
        walk.add(path, f"expected an option object, got {type(option).__name__}")
        return
    walk.text(f"{path}.text", option.get("text"), LIMITS.option_text, plain=plain)
    walk.length(f"{path}.value", option.get("value"), LIMITS.option_value)
    walk.text(f"{path}.description", option.get("description"), LIMITS.option_description, plain=True)
    walk.length(f"{path}.url", option.get("url"), LIMITS.url)


def _confirm(walk: _Walk, path: str, confirm: Any) -> None:
    if not isinstance(confirm, dict):
        walk.add(path, f"expected a confirmation dialog, got {type(confirm).__name__}")
        return
    walk.text(f"{path}.title", confirm.get("title"), LIMITS.confirm_title, plain=True)
    walk.text(f"{path}.text", confirm.get("text"), LIMITS.confirm_text)
    walk.text(f"{path}.confirm", confirm.get("confirm"), LIMITS.confirm_button, plain=True)
    walk.text(f"{path}.deny", confirm.get("deny"), LIMITS.confirm_button, plain=True)


def _initial_only(walk: _Walk, path: str, element: dict[str, Any]) -> None:
    """External selects: options come from the app at run time, only the initial ones are in the view."""
    _initial(walk, path, element, plain=True)


def _nothing(walk: _Walk, path: str, element: dict[str, Any]) -> None:
    """Elements whose only limited fields (action_id, placeholder, confirm) every element shares."""


_ELEMENTS: dict[str, Callable[[_Walk, str, dict[str, Any]], None]] = {
    "button": _button,
    "image": _image,
    "static_select": _select,
    "multi_static_select": _select,
    "external_select": _initial_only,
    "multi_external_select": _initial_only,
    "plain_text_input": _text_input,
    "checkboxes": _choices(LIMITS.checkbox_options),
    "radio_buttons": _choices(LIMITS.radio_options),
    "overflow": _choices(LIMITS.overflow_options),
    **dict.fromkeys(
        (
            "datepicker",
            "timepicker",
            "datetimepicker",
            "users_select",
            "multi_users_select",
            "conversations_select",
            "multi_conversations_select",
            "channels_select",
            "multi_channels_select",
        ),
        _nothing,
    ),
}

"""Ids of the reviews feature: commands, modals, fields, buttons, blocks.

A test holds every feature's ids against the manifests in `manifests/` (see `Feature.ids`).
"""

from enum import StrEnum


class ReviewCommand(StrEnum):
    """The reviews feature's slash command."""

    POSTMORTEM = "/postmortem"


class ReviewShortcut(StrEnum):
    """The reviews feature's message shortcut."""

    CAPTURE_REVIEW = "capture_review"


class ReviewView(StrEnum):
    """Modal callback ids of the reviews feature."""

    REVIEW = "review_modal"
    PLAYBOOK = "review_playbook_modal"
    LESSON = "review_lesson_modal"
    APPLIED_WHERE = "review_applied_where_modal"


class ReviewField(StrEnum):
    """Input ids of the reviews feature's modals: each is both the block id and its element's action id."""

    COMMUNITY = "review_community"
    TEMPLATE = "review_template"
    TITLE = "review_title"
    CONTEXT = "review_context"
    EXPECTED = "review_expected"
    HAPPENED = "review_happened"
    WENT_WELL = "review_went_well"
    TO_CHANGE = "review_to_change"
    LESSONS = "review_lessons"
    LESSON_OWNER = "review_lesson_owner"
    DECISIONS = "review_decisions"
    ACTION_OWNERS = "review_action_owners"
    COAUTHORS = "review_coauthors"
    TAGS = "review_tags"
    LINKS = "review_links"
    RELATED = "review_related"
    PLAYBOOK_TITLE = "review_playbook_title"
    PLAYBOOK_WHEN = "review_playbook_when"
    PLAYBOOK_STEPS = "review_playbook_steps"
    LESSON_TEXT = "review_lesson_text"
    APPLIED_COMMUNITY = "review_applied_community"


class ReviewAction(StrEnum):
    """Buttons of the reviews feature (action ids)."""

    EDIT = "review_edit"
    APPLIED = "review_applied"
    PROMOTE = "review_promote"
    # Previous and Next sit in one actions block, where Slack wants every action id distinct.
    SEARCH_PREVIOUS = "review_search_previous"
    SEARCH_NEXT = "review_search_next"
    SEARCH_SCOPE = "review_search_scope"  # this community <-> every community
    NEW_PLAYBOOK = "review_new_playbook"
    LESSON_TRUE = "review_lesson_true"
    LESSON_UPDATE = "review_lesson_update"
    LESSON_RETIRE = "review_lesson_retire"
    RECORD_CAPTURED = "review_record_captured"
    OPEN_REVIEW = "review_open"
    # The adopter's answers 30 and 90 days after "We applied this" (one actions block).
    CHECKIN_YES = "review_checkin_yes"
    CHECKIN_NO = "review_checkin_no"
    CHECKIN_STOPPED = "review_checkin_stopped"


class ReviewBlock(StrEnum):
    """Block ids of the reviews feature's messages."""

    ACTIONS = "review_actions"
    SEARCH_NAV = "review_search_nav"
    LESSON_ACTIONS = "review_lesson_actions"
    CHECKIN_ACTIONS = "review_checkin_actions"


# The modals' fields as the service names them (a ReviewField member's name, lower case) -> block id.
FIELD_BLOCKS: dict[str, str] = {field.name.lower(): field.value for field in ReviewField}

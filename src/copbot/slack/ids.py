"""Every id Slack echoes back to copbot: commands, callback ids, action ids, block ids.

A test holds these against the manifests in `manifests/`, so a listener and its declaration can
never drift apart.
"""

from enum import StrEnum


class Command(StrEnum):
    """Slash commands declared in the manifest."""

    COP = "/cop"
    POSTMORTEM = "/postmortem"
    NOMINATE = "/nominate"


class Shortcut(StrEnum):
    """Message shortcuts declared in the manifest."""

    CAPTURE_REVIEW = "capture_review"
    RECOGNIZE_MESSAGE = "recognize_message"


class View(StrEnum):
    """Modal callback ids."""

    COMMUNITY_SETUP = "community_setup"


class Block(StrEnum):
    """Input block ids (the keys of `view.state.values` and of `response_action: errors`)."""

    NAME = "name"
    PURPOSE = "purpose"
    LEARNING_GOALS = "learning_goals"
    BOUNDARIES = "boundaries"
    NORMS = "norms"
    TIMEZONE = "timezone"
    RECOGNITION_VALUES = "recognition_values"  # added to the set-up modal by recognition


class Action(StrEnum):
    """Action ids of interactive elements."""

    NAME = "name_input"
    PURPOSE = "purpose_input"
    LEARNING_GOALS = "learning_goals_input"
    BOUNDARIES = "boundaries_input"
    NORMS = "norms_input"
    TIMEZONE = "timezone_select"
    RECOGNITION_VALUES = "recognition_values_input"
    OPEN_SETUP = "open_setup"
    JOIN = "join_community"


class SessionAction(StrEnum):
    """Actions shared between rituals (which post them) and reviews (which handle them)."""

    # "What did we learn?" on a session's after-action prompt; value = the occurrence id.
    OPEN_REVIEW_FROM_SESSION = "review_open_from_session"


class ReviewView(StrEnum):
    """Modal callback ids of the reviews feature."""

    REVIEW = "review_modal"
    PLAYBOOK = "review_playbook_modal"
    LESSON = "review_lesson_modal"


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


class ReviewAction(StrEnum):
    """Buttons of the reviews feature (action ids)."""

    EDIT = "review_edit"
    APPLIED = "review_applied"
    PROMOTE = "review_promote"
    SEARCH_PAGE = "review_search_page"
    NEW_PLAYBOOK = "review_new_playbook"
    LESSON_TRUE = "review_lesson_true"
    LESSON_UPDATE = "review_lesson_update"
    LESSON_RETIRE = "review_lesson_retire"
    RECORD_CAPTURED = "review_record_captured"
    OPEN_REVIEW = "review_open"


class ReviewBlock(StrEnum):
    """Block ids of the reviews feature's messages."""

    ACTIONS = "review_actions"
    SEARCH_NAV = "review_search_nav"
    LESSON_ACTIONS = "review_lesson_actions"


class PeopleView(StrEnum):
    """Modal callback ids of the people feature."""

    ASK = "people_ask"


class PeopleBlock(StrEnum):
    """Block ids of the people feature's modals and messages."""

    ASK_TEXT = "people_ask_text"
    QUESTION_ACTIONS = "people_question_actions"
    DRAFT_ACTIONS = "people_draft_actions"
    FORGET_ACTIONS = "people_forget_actions"


class PeopleAction(StrEnum):
    """Action ids of the people feature's interactive elements."""

    ASK_INPUT = "people_ask_input"
    CLOSE_QUESTION = "people_question_close"
    DELETE_QUESTION = "people_question_delete"
    POST_DRAFT = "people_draft_post"
    DROP_DRAFT = "people_draft_drop"
    FORGET_ME = "people_forget_me"
    KEEP_ME = "people_forget_cancel"


class RecognitionView(StrEnum):
    """Modal callback ids of the recognition feature."""

    NOMINATE = "recognition_nominate"


class RecognitionField(StrEnum):
    """Inputs of the nomination modal: each is both the block id and its element's action id."""

    NOMINEES = "recognition_nominees"
    VALUE = "recognition_value"
    ACTION = "recognition_action"
    IMPACT = "recognition_impact"
    VISIBILITY = "recognition_visibility"


class RecognitionAction(StrEnum):
    """Buttons of the recognition feature (action ids)."""

    # On reviews' and playbooks' posts; value "review:<id>" or "playbook:<id>".
    THANK_AUTHOR = "recognition_thank_author"


class RitualView(StrEnum):
    """Modal callback ids of the rituals feature."""

    CYCLE = "ritual_cycle_modal"
    SESSIONS = "ritual_sessions_modal"


class RitualField(StrEnum):
    """Input ids of the rituals feature's modals: each is both the block id and its element's action id."""

    TITLE = "ritual_title"
    PLAN = "ritual_plan"
    KICKOFF_DATE = "ritual_kickoff_date"
    KICKOFF_TIME = "ritual_kickoff_time"
    MIDPOINT_DATE = "ritual_midpoint_date"
    MIDPOINT_TIME = "ritual_midpoint_time"
    FINALE_DATE = "ritual_finale_date"
    FINALE_TIME = "ritual_finale_time"
    FREQUENCY = "ritual_frequency"
    FIRST_DATE = "ritual_first_date"
    TIME = "ritual_time"
    ALT_TIME = "ritual_alt_time"
    DURATION = "ritual_duration"
    ROTATION_DAYS = "ritual_rotation_days"


class RitualAction(StrEnum):
    """Buttons of the rituals feature (action ids)."""

    GOING = "ritual_rsvp_going"
    CANT = "ritual_rsvp_cant"
    ASYNC = "ritual_rsvp_async"
    ATTENDED = "ritual_attended"
    SIGN_UP = "ritual_sign_up"
    PULSE_1 = "ritual_pulse_1"
    PULSE_2 = "ritual_pulse_2"
    PULSE_3 = "ritual_pulse_3"
    PULSE_4 = "ritual_pulse_4"
    PULSE_5 = "ritual_pulse_5"
    ACCEPT = "ritual_accept"
    SWAP = "ritual_swap"
    SKIP = "ritual_skip"
    NEW_CYCLE = "ritual_new_cycle"
    NEW_SESSIONS = "ritual_new_sessions"
    PREVIEW = "ritual_preview"
    GO_LIVE = "ritual_go_live"
    PAUSE = "ritual_pause"
    RESUME = "ritual_resume"
    EDIT = "ritual_edit"
    DELETE = "ritual_delete"


class RitualBlock(StrEnum):
    """Block ids of the rituals feature's messages (the pulse's block id names its question)."""

    RSVP = "ritual_rsvp"
    SIGN_UP = "ritual_sign_up_actions"
    PULSE_VALUE = "ritual_pulse_value"
    PULSE_SAFETY = "ritual_pulse_safety"
    ASK = "ritual_ask_actions"
    NEW = "ritual_new_actions"
    PROMPT = "ritual_prompt_actions"


class HealthAction(StrEnum):
    """Buttons of the health feature (action ids)."""

    REFRESH_HOME = "health_refresh_home"
    # Opens the community set-up modal; value = the community's channel id.
    OPEN_SETUP = "health_open_setup"


class HealthBlock(StrEnum):
    """Block ids of the health feature's views and messages."""

    HOME_ACTIONS = "health_home_actions"
    DASHBOARD_ACTIONS = "health_dashboard_actions"  # suffixed with ":<community id>" per dashboard
    REVIEW_ACTIONS = "health_review_actions"

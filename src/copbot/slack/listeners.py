"""The listener kit: what every feature's Bolt listeners share at the edge.

Listeners ack at once (`acknowledge`) and do their work after the ack, in Bolt's lazy listeners; what
they then have to say goes to the person who acted as an ephemeral message (`tell`, `answering`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from slack_bolt import Ack, Respond

from copbot.errors import InvalidInput
from copbot.slack.errors import user_message

log = logging.getLogger(__name__)


def acknowledge(ack: Ack) -> None:
    """Ack with nothing: the listener's work runs after the ack."""
    ack()


def tell(respond: Respond, text: str, *, replace: bool = False) -> None:
    """Tell the person who acted, after the ack: an ephemeral message where they clicked or typed.

    A click in a modal or on the App Home comes with no `response_url`: there is no message to answer
    under, so nothing is said (Bolt's `respond` would raise)."""
    if not respond.response_url:
        log.info("no response_url to answer on: %s", text[:80])
        return
    respond(text=text, response_type="ephemeral", replace_original=replace)


def modal_errors(error: InvalidInput, blocks: Mapping[str, str]) -> dict[str, Any]:
    """The `ack()` of a modal whose input broke a rule: each domain field's error under its block id.

    Services name the fields of their rules (`title`, `nominees`); `blocks` says which input block of
    this modal shows each one (a field it does not list is taken to be a block id already).
    """
    errors = {blocks.get(field, field): message for field, message in error.field_errors.items()}
    return {"response_action": "errors", "errors": errors}


@contextmanager
def answering(respond: Respond) -> Iterator[None]:
    """Turn a refusal or failure after the ack into an ephemeral message to the person who acted."""
    try:
        yield
    except Exception as error:  # after the ack, a message is the only way left to tell them
        try:
            tell(respond, user_message(error))
        except Exception:
            log.warning("could not tell the user about an error", exc_info=True)

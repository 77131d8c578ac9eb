"""The features the app is assembled from: one line each, in the order their listeners register.

Each entry is a feature's `handlers` module. It must define `register(app, deps, router)`, and may
define `jobs() -> list[Job]` (scheduled work), `export_records(session, communities) -> dict[str, list]`
(its record kinds for `copbot export`) and `on_delivery_failure(session, message, error)` (told when the
outbox gives up on a message, e.g. `is_archived`), `forget_user(session, team_id, user_id)` (delete or
anonymise every record naming the user; called by `/cop forget-me` and `copbot forget`) and
`purge_before(session, cutoff, *, team_id)` (retention: delete a workspace's raw records older than cutoff).
"""

from types import ModuleType

from copbot.communities import handlers as communities
from copbot.health import handlers as health
from copbot.people import handlers as people
from copbot.recognition import handlers as recognition
from copbot.reviews import handlers as reviews
from copbot.rituals import handlers as rituals

FEATURES: tuple[ModuleType, ...] = (
    communities,
    people,
    recognition,
    reviews,
    rituals,
    health,
)

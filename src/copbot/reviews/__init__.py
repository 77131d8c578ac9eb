"""After-action reviews, lessons, playbooks, adoption and search."""

from copbot.feature import Feature
from copbot.reviews import handlers, jobs, privacy
from copbot.slack.ids import ReviewAction, ReviewBlock, ReviewField, ReviewView, SessionAction

FEATURE = Feature(
    name="reviews",
    register=handlers.register,
    jobs=jobs.jobs,
    ids=(ReviewView, ReviewField, ReviewAction, ReviewBlock, SessionAction),
    export=jobs.export_records,
    forget=privacy.forget_user,
    purge=privacy.purge_before,
)

"""After-action reviews, lessons, playbooks, adoption and search."""

from copbot.feature import Feature
from copbot.reviews import handlers, jobs, privacy
from copbot.reviews.ids import (
    ReviewAction,
    ReviewBlock,
    ReviewCommand,
    ReviewField,
    ReviewShortcut,
    ReviewView,
)

FEATURE = Feature(
    name="reviews",
    register=handlers.register,
    jobs=jobs.jobs,
    ids=(ReviewCommand, ReviewShortcut, ReviewView, ReviewField, ReviewAction, ReviewBlock),
    export=jobs.export_records,
    forget=privacy.forget_user,
    purge=privacy.purge_before,
)

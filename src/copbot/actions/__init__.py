"""Action items: each decision or follow-up action of a review, followed up with its owner until closed."""

from copbot.actions import handlers, jobs, privacy
from copbot.actions.ids import ActionsAction, ActionsBlock, ActionsField, ActionsView
from copbot.feature import Feature

FEATURE = Feature(
    name="actions",
    register=handlers.register,
    jobs=jobs.jobs,
    ids=(ActionsView, ActionsField, ActionsAction, ActionsBlock),
    export=jobs.export_records,
    forget=privacy.forget_user,
    purge=privacy.purge_before,
)

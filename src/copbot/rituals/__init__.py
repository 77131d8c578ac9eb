"""Rituals: recurring sessions, RSVPs and attendance, facilitator rotation, pulses and reminders."""

from copbot.feature import Feature
from copbot.rituals import handlers, jobs, privacy
from copbot.slack.ids import RitualAction, RitualBlock, RitualField, RitualView

FEATURE = Feature(
    name="rituals",
    register=handlers.register,
    jobs=jobs.jobs,
    ids=(RitualView, RitualField, RitualAction, RitualBlock),
    export=handlers.export_records,
    forget=privacy.forget_user,
    purge=privacy.purge_before,
    on_delivery_failure=handlers.on_delivery_failure,
)

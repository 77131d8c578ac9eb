"""Rituals: recurring sessions, RSVPs and attendance, facilitator rotation, pulses and reminders."""

from copbot.feature import Feature
from copbot.rituals import flows, handlers, jobs, privacy
from copbot.rituals.ids import RitualAction, RitualBlock, RitualField, RitualView, SessionAction

FEATURE = Feature(
    name="rituals",
    register=handlers.register,
    jobs=jobs.jobs,
    ids=(RitualView, RitualField, RitualAction, RitualBlock, SessionAction),
    export=handlers.export_records,
    forget=privacy.forget_user,
    purge=privacy.purge_before,
    on_delivery_failure=flows.on_delivery_failure,
)

"""Health: the App Home, `/cop stats` and `/cop export`, and each community's quarterly review."""

from copbot.feature import Feature
from copbot.health import handlers, jobs, snapshots
from copbot.health.ids import HealthAction, HealthBlock

FEATURE = Feature(
    name="health",
    register=handlers.register,
    jobs=jobs.jobs,
    ids=(HealthAction, HealthBlock),
    forget=snapshots.forget,
    purge=snapshots.purge_before,
)

"""The features the app is assembled from: one line each, in the order their listeners register.

Each is the `FEATURE` its package's `__init__.py` exposes (see `copbot.feature.Feature`). The runtime
hands this tuple to the app, the scheduler, forget-me, retention and export through `Deps.features`.
"""

from copbot import actions, communities, health, native, people, recognition, reviews, rituals
from copbot.feature import Feature

FEATURES: tuple[Feature, ...] = (
    communities.FEATURE,
    people.FEATURE,
    recognition.FEATURE,
    reviews.FEATURE,
    actions.FEATURE,
    rituals.FEATURE,
    health.FEATURE,
    native.FEATURE,
)

"""Slack-native surfaces: Workflow Builder steps, the facilitator @handle and the living channel canvas."""

from copbot.feature import Feature
from copbot.native import handlers, sync
from copbot.native.ids import Function

FEATURE = Feature(
    name="native",
    register=handlers.register,
    jobs=handlers.jobs,
    ids=(Function,),
    forget=handlers.forget_user,
    purge=handlers.purge_before,
    on_delivery_failure=handlers.on_delivery_failure,
    syncers=sync.syncers(),
)

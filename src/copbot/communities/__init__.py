"""Communities of practice: a workspace's communities, bound to channels, and their members."""

from copbot.communities import export, handlers, service
from copbot.communities.ids import Action, Block, View
from copbot.feature import Feature

FEATURE = Feature(
    name="communities",
    register=handlers.register,
    ids=(View, Block, Action),
    export=export.export_records,
    forget=service.forget_user,
)

"""Communities of practice: a workspace's communities, bound to channels, and their members."""

from copbot.communities import export, handlers, service
from copbot.feature import Feature
from copbot.slack.ids import Action, Block, View

FEATURE = Feature(
    name="communities",
    register=handlers.register,
    ids=(View, Block, Action),
    export=export.export_records,
    forget=service.forget_user,
)

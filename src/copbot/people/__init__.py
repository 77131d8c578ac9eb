"""People: onboarding with mentors, roles, teams, anonymous questions, privacy controls."""

from copbot.feature import Feature
from copbot.people import handlers, service
from copbot.people.ids import PeopleAction, PeopleBlock, PeopleView

FEATURE = Feature(
    name="people",
    register=handlers.register,
    jobs=handlers.jobs,
    ids=(PeopleView, PeopleBlock, PeopleAction),
    export=handlers.export_records,
    forget=service.forget_person,
    purge=service.purge_before,
)

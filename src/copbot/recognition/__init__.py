"""Recognition: nominations against the community's values, quotas, and the weekly digest."""

from copbot.feature import Feature
from copbot.recognition import handlers, jobs, service
from copbot.slack.ids import Command, RecognitionAction, RecognitionField, RecognitionView, Shortcut

FEATURE = Feature(
    name="recognition",
    register=handlers.register,
    jobs=jobs.jobs,
    setup_fields=(handlers.ValuesSetupField(),),
    ids=(Command, Shortcut, RecognitionView, RecognitionField, RecognitionAction),
    export=handlers.export_records,
    forget=service.forget_user,
    purge=service.purge_before,
)

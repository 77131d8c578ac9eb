"""Recognition: nominations against the community's values, quotas, and the weekly digest."""

from copbot.feature import Feature
from copbot.recognition import handlers, jobs, service
from copbot.recognition.ids import (
    RecognitionAction,
    RecognitionBlock,
    RecognitionCommand,
    RecognitionField,
    RecognitionSetup,
    RecognitionShortcut,
    RecognitionView,
)

FEATURE = Feature(
    name="recognition",
    register=handlers.register,
    jobs=jobs.jobs,
    setup_fields=(handlers.ValuesSetupField(),),
    ids=(
        RecognitionCommand,
        RecognitionShortcut,
        RecognitionSetup,
        RecognitionView,
        RecognitionField,
        RecognitionAction,
        RecognitionBlock,
    ),
    export=handlers.export_records,
    forget=service.forget_user,
    purge=service.purge_before,
)

"""The school journal's events, as sms-notify reads them (exchange ``journal.events``).

The journal is an external system: the contract the platform offers it lives in
edu_common.contracts.journal and is documented in ``JOURNAL.md``.
``python -m sms_notify.tools.journal`` publishes sample events in development.
"""

from edu_common.contracts.journal import (
    EXCHANGE,
    GRADE_RECORDED,
    HOMEWORK_ASSIGNED,
    GradeRecorded,
    HomeworkAssigned,
)

CONSUMED = [GRADE_RECORDED, HOMEWORK_ASSIGNED]

__all__ = [
    "CONSUMED",
    "EXCHANGE",
    "GRADE_RECORDED",
    "HOMEWORK_ASSIGNED",
    "GradeRecorded",
    "HomeworkAssigned",
]

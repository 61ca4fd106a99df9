"""The school journal's events (exchange ``journal.events``): the contract the platform offers
the journal, an external system, which publishes one event per student. sms-notify reads them
for subscriptions to homework and weekly grades.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from edu_common.contracts import Contract
from edu_common.envelope import PUBLIC, EventType
from edu_common.kz.iin import is_valid_iin

EXCHANGE = "journal.events"


class _Student(Contract):
    student_iin = fields.String(required=True, metadata={"description": "12-digit IIN"})
    student_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    school_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    class_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=100))

    @validates("student_iin")
    def _iin(self, value, **_kw):
        if not is_valid_iin(value):
            raise ValidationError("Not a valid IIN.")


class GradeRecorded(_Student):
    grade_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The journal's id of the grade; a correction reuses it"},
    )
    grade = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "As the journal shows it: 1-10, 'зачёт', 'н/а'..."},
    )
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "lesson, СОР (summative for a section), СОЧ (for a term)..."},
    )
    lesson_date = fields.Date(load_default=None, allow_none=True)
    recorded_at = fields.AwareDateTime(required=True)


class HomeworkAssigned(_Student):
    homework_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    due_date = fields.Date(load_default=None, allow_none=True)
    assigned_at = fields.AwareDateTime(required=True)


GRADE_RECORDED = EventType(
    "journal",
    "grade.recorded",
    1,
    GradeRecorded,
    "A teacher put a grade in the school journal (or corrected one: same grade_id).",
    audience=PUBLIC,
)
HOMEWORK_ASSIGNED = EventType(
    "journal",
    "homework.assigned",
    1,
    HomeworkAssigned,
    "A teacher set homework for a class; one event per student of the class.",
    audience=PUBLIC,
)

ALL = [GRADE_RECORDED, HOMEWORK_ASSIGNED]

"""The college's state services a student asks for (seed 001, picture 9). Pure.

Each is a request type with its own fields and a deadline in working days counted from
submission (settings; DOMAIN.md: academic leave 2 or 5, the certificate for those who did not
complete their studies 3).
"""

from __future__ import annotations

ENROLMENT = "enrolment"
APPEAL = "appeal"
DORMITORY = "dormitory"
FREE_MEALS = "free_meals"
ACADEMIC_LEAVE = "academic_leave"
RETURN_FROM_LEAVE = "return_from_academic_leave"
TRANSFER_REINSTATEMENT = "transfer_reinstatement"
DOCUMENT_DUPLICATE = "document_duplicate"
INCOMPLETE_STUDIES_CERTIFICATE = "incomplete_studies_certificate"
TYPES = (
    ENROLMENT,
    APPEAL,
    DORMITORY,
    FREE_MEALS,
    ACADEMIC_LEAVE,
    RETURN_FROM_LEAVE,
    TRANSFER_REINSTATEMENT,
    DOCUMENT_DUPLICATE,
    INCOMPLETE_STUDIES_CERTIFICATE,
)
# Anyone may ask a college to enrol them; every other service is for its students.
FOR_ANYONE = (ENROLMENT,)

# Student statuses and what an approved request does to them.
STUDYING = "studying"
ON_LEAVE = "academic_leave"
LEFT = "left"
ON_APPROVAL = {ACADEMIC_LEAVE: ON_LEAVE, RETURN_FROM_LEAVE: STUDYING}
# A student on academic leave may ask only for these.
WHILE_ON_LEAVE = (RETURN_FROM_LEAVE, DOCUMENT_DUPLICATE, INCOMPLETE_STUDIES_CERTIFICATE, APPEAL)

"""Roles a person can hold on the platform."""

CITIZEN = "citizen"
KINDERGARTEN_STAFF = "kindergarten_staff"
DISTRICT_OPERATOR = "district_operator"
COLLEGE_OFFICER = "college_officer"
TEACHER = "teacher"
ADMIN = "admin"

ALL_ROLES: frozenset[str] = frozenset(
    {CITIZEN, KINDERGARTEN_STAFF, DISTRICT_OPERATOR, COLLEGE_OFFICER, TEACHER, ADMIN}
)
# Staff accounts are created by others and start with a one-time credential.
STAFF_ROLES: frozenset[str] = ALL_ROLES - {CITIZEN}

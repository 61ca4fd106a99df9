"""Roles a person can hold on the platform."""

CITIZEN = "citizen"
KINDERGARTEN_STAFF = "kindergarten_staff"
DISTRICT_OPERATOR = "district_operator"
COLLEGE_OFFICER = "college_officer"
TEACHER = "teacher"
SCHOOL_ADMIN = "school_admin"  # a school's deputy head: creates the pupils' parents' accounts
ADMIN = "admin"

ALL_ROLES: frozenset[str] = frozenset(
    {
        CITIZEN,
        KINDERGARTEN_STAFF,
        DISTRICT_OPERATOR,
        COLLEGE_OFFICER,
        TEACHER,
        SCHOOL_ADMIN,
        ADMIN,
    }
)
# Staff accounts are created by others and start with a one-time credential.
STAFF_ROLES: frozenset[str] = ALL_ROLES - {CITIZEN}
# Who may verify a cabinet registered with data by hand, from the identity document.
VERIFIERS: frozenset[str] = frozenset({DISTRICT_OPERATOR, ADMIN})

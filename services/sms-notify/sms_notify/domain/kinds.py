"""The kinds of messages: what preferences mute by name. Pure."""

URGENT = frozenset({"code", "security"})  # never held, never muted, never charged
KINDS = (
    "code",  # one-time codes and passwords (identity)
    "security",  # password changed, account locked (identity)
    "queue",  # kindergarten queue: registered, number moved, category, left the queue
    "referral",  # kindergarten referrals and enrolment
    "escort",  # escorts added or removed
    "attendance",  # the child marked in or out
    "application",  # applicant: a college application's status changes
    "student_request",  # applicant: a student's requests to a college (status, overdue)
    "grades_weekly",  # subscriptions (seed 004)
    "homework",
    "balance",  # prepaid balance: top-ups, ran out
    "conversation",  # messages between parents and teachers
)
MUTABLE = tuple(k for k in KINDS if k not in URGENT)
# What a parent may subscribe a phone to (paid, from the prepaid balance).
SUBSCRIPTION_KINDS = ("grades_weekly", "homework")

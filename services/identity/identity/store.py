"""identity's own database: collection names and the indexes that enforce its rules."""

from edu_common.mongo import Index

ACCOUNTS = "accounts"
REGISTRATIONS = "registrations"
CHALLENGES = "challenges"
SESSIONS = "sessions"
AUDIT = "audit"
THROTTLE = "throttle"

INDEXES = [
    # One cabinet per IIN and per e-mail. Sparse, not partial: planners use a sparse index for
    # the equality lookup of every sign-in; accounts without an IIN or e-mail lack the field.
    Index(ACCOUNTS, [("iin", 1)], unique=True, sparse=True, name="one_account_per_iin"),
    Index(ACCOUNTS, [("email", 1)], unique=True, sparse=True, name="one_account_per_email"),
    Index(ACCOUNTS, [("phone", 1)], name="accounts_phone"),
    Index(REGISTRATIONS, [("expires_at", 1)], name="registrations_ttl", expire_after_seconds=0),
    Index(CHALLENGES, [("expires_at", 1)], name="challenges_ttl", expire_after_seconds=0),
    Index(SESSIONS, [("account_id", 1), ("ended_at", 1)], name="sessions_by_account"),
    Index(SESSIONS, [("expires_at", 1)], name="sessions_ttl", expire_after_seconds=0),
    Index(AUDIT, [("account_id", 1), ("at", -1)], name="audit_by_account"),
    Index(AUDIT, [("at", 1)], name="audit_retention", expire_after_seconds=3 * 365 * 86400),
    Index(THROTTLE, [("expires_at", 1)], name="throttle_ttl", expire_after_seconds=0),
]


def without_missing_keys(account: dict) -> dict:
    """An account as stored: no null IIN or e-mail, which the sparse unique indexes would count."""
    return {k: v for k, v in account.items() if not (k in ("iin", "email") and v is None)}

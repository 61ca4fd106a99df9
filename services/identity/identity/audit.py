"""The audit log of security events, kept in identity's own database."""

from __future__ import annotations

import uuid

from prometheus_client import Counter
from pymongo.client_session import ClientSession

from identity import store
from identity.deps import Deps

# The events an admin can see in GET /audit.
LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
ACCOUNT_LOCKED = "account.locked"
PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an event name
PASSWORD_RESET = "password.reset"  # noqa: S105 - an event name
ACCOUNT_CREATED = "account.created"
ROLES_CHANGED = "account.roles_changed"
ACCOUNT_VERIFIED = "account.verified"
SESSION_REUSE_DETECTED = "session.refresh_reuse"
LOGOUT = "logout"

# Each audited security event is also counted, so dashboards see sign-in failures and locks.
SECURITY_EVENTS = Counter(
    "identity_security_events_total", "Audited security events", ["type", "method"]
)


def record(
    deps: Deps,
    kind: str,
    *,
    account_id: str | None,
    client: str | None = None,
    actor_id: str | None = None,
    session: ClientSession | None = None,
    **detail,
) -> None:
    SECURITY_EVENTS.labels(kind, detail.get("method", "")).inc()
    deps.db[store.AUDIT].insert_one(
        {
            "_id": uuid.uuid4().hex,
            "at": deps.now(),
            "type": kind,
            "account_id": account_id,
            "actor_id": actor_id,
            "client": client,
            "detail": detail,
        },
        session=session,
    )

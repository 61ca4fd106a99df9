"""identity's internal API as the other services call it: one small HTTP client, short timeouts.

Today it has one call, ``account``: the asking person's own account state, the same payload as
``identity.account.changed.v1``, for the moment a service's local copy has not caught up yet
(docs/decisions/0016-account-copy-on-miss.md). The caller's own access token authenticates the
call, and identity answers only for that token's subject.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

import requests

from edu_common import context

log = logging.getLogger(__name__)

ACCOUNT_PATH = "/internal/accounts/{account_id}"

_local = threading.local()


class IdentityUnavailable(RuntimeError):
    """identity did not give an answer in time (down, slow, or answered an error)."""


def _session() -> requests.Session:
    # One keep-alive pool per thread: gunicorn's threads never share a connection.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def account(base_url: str, account_id: str, token: str, *, timeout: float) -> dict | None:
    """The account's current state, or None when identity has no such account for this token
    (404, or 401/403: a token identity no longer accepts, or someone else's account).

    Raises IdentityUnavailable when identity does not answer usefully; never logs the token.
    """
    url = base_url.rstrip("/") + ACCOUNT_PATH.format(account_id=quote(account_id, safe=""))
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    request_id = context.current().request_id
    if request_id:
        headers["X-Request-Id"] = request_id
    try:
        resp = _session().get(url, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise IdentityUnavailable(type(exc).__name__) from None
    if resp.status_code == 200:
        try:
            body = resp.json()
        except ValueError:
            raise IdentityUnavailable("not JSON") from None
        if not isinstance(body, dict):
            raise IdentityUnavailable("not an object")
        return body
    if resp.status_code in (401, 403, 404):
        return None
    raise IdentityUnavailable(f"HTTP {resp.status_code}")

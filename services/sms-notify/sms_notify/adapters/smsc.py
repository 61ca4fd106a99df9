"""SMS through an SMSC.kz-style HTTP gateway (``/sys/send.php``, JSON answers with fmt=3)."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from sms_notify.adapters.channels import (
    Outgoing,
    PermanentError,
    Report,
    TransientError,
    post_for_json,
)

SEND_PATH = "/sys/send.php"
# Error codes about our account rather than the message (bad login, no balance, blocked IP,
# too frequent): the same message can go through once that is fixed.
ACCOUNT_ERRORS = {2, 3, 4, 9}
STATUS_PATH = "/sys/status.php"
# status.php's final statuses: 1 delivered, 2 read; 3 expired, 20 undeliverable, 22 bad number,
# 23 prohibited, 24 no funds, 25 unavailable. Others (-1 waiting, 0 with the operator) pend.
SMSC_DELIVERED = {1, 2}
SMSC_UNDELIVERED = {3, 20, 22, 23, 24, 25}


def send_url(url: str) -> str:
    """The send endpoint, given either itself or the gateway's base URL."""
    if urlsplit(url).path.endswith(".php"):
        return url
    return url.rstrip("/") + SEND_PATH


def client_id(message_id: str) -> str:
    """Our message id as SMSC's ``id``: digits below 2**52, so a JSON number keeps it exact.

    SMSC echoes the id back in its answer and needs it (with the phone) to report a status;
    the dev inbox also refuses to send the same id twice to one phone.
    """
    return str(int(message_id.replace("-", "")[:13], 16) or 1)


class SmscChannel:
    provider = "smsc"

    def __init__(
        self,
        url: str,
        login: str,
        password: str,
        *,
        sender: str | None = None,
        timeout: tuple[float, float] = (5.0, 20.0),  # (connect, read)
        session: requests.Session | None = None,
    ):
        self.url = send_url(url)
        self.status_url = self.url.rsplit("/", 1)[0] + "/status.php"
        self.login = login
        self._password = password
        self.sender = sender
        self.timeout = timeout
        self._http = session or requests.Session()

    def send(self, message: Outgoing) -> str:
        form = {
            "login": self.login,
            "psw": self._password,
            "phones": message.to,
            "mes": message.body,
            "id": client_id(message.id),
            "fmt": "3",
            "charset": "utf-8",  # otherwise windows-1251, which has no Kazakh letters
        }
        if self.sender:
            form["sender"] = self.sender
        body = post_for_json(self._http, "SMSC", self.url, data=form, timeout=self.timeout)
        if "error" in body or "error_code" in body:
            code = _int(body.get("error_code"))
            text = f"SMSC error {code}: {body.get('error', '')}"[:300]
            raise (TransientError if code in ACCOUNT_ERRORS else PermanentError)(text)
        if body.get("id") is None:
            raise TransientError("SMSC answer has no message id")
        return str(body["id"])

    def status(self, provider_ids: list[str], to: str | None = None) -> list[Report]:
        """Ask status.php about our messages to one phone (SMSC needs the phone with the id)."""
        reports = []
        for pid in provider_ids:
            form = {
                "login": self.login,
                "psw": self._password,
                "phone": to or "",
                "id": pid,
                "fmt": "3",
            }
            try:
                answer = self._http.post(self.status_url, data=form, timeout=self.timeout)
                body = answer.json() if answer.status_code < 400 else None
            except (requests.RequestException, ValueError):
                continue  # asked again at the next poll
            if not isinstance(body, dict) or "status" not in body:
                continue
            code = _int(body.get("status"))
            if code in SMSC_DELIVERED:
                reports.append(Report(pid, "delivered", str(code)))
            elif code in SMSC_UNDELIVERED:
                reports.append(Report(pid, "undelivered", str(code)))
            else:
                reports.append(Report(pid, "pending", str(code)))
        return reports


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

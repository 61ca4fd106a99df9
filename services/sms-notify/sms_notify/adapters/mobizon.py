"""SMS through a Mobizon-shaped HTTP API (api.mobizon.kz).

Send: ``POST /service/message/sendsmsmessage?output=json&api=v1`` with ``recipient`` (digits,
no "+"), ``text`` and ``apiKey`` -> ``{"code": 0, "data": {"messageId": ...}, "message": ""}``.
Status: ``/service/message/getsmsstatus`` with ``ids[]`` -> ``{"code": 0, "data": [{"id",
"status"}]}``. A non-zero ``code`` is Mobizon's error: 1 (validation) is about the message and
permanent; the others (auth, balance, limits, maintenance) are about our account: transient.
"""

from __future__ import annotations

import requests

from sms_notify.adapters.channels import (
    Outgoing,
    PermanentError,
    Report,
    TransientError,
    post_for_json,
)

SEND_PATH = "/service/message/sendsmsmessage"
STATUS_PATH = "/service/message/getsmsstatus"
MESSAGE_ERRORS = {1, 2}  # validation error, object not found: the same text would fail again
# Mobizon's final statuses; anything else (NEW, ENQUEUD, ACCEPTD...) is still on its way.
DELIVERED = {"DELIVRD"}
UNDELIVERED = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN", "PDLIVRD"}


class MobizonChannel:
    provider = "mobizon"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self._http = session or requests.Session()

    def _call(self, path: str, form: dict | list) -> object:
        body = post_for_json(
            self._http,
            "Mobizon",
            self.base_url + path,
            params={"output": "json", "api": "v1"},
            data=form,
            timeout=self.timeout,
        )
        if not isinstance(body.get("code"), int):
            raise TransientError("Mobizon answered an unexpected JSON shape")
        if body["code"] != 0:
            text = f"Mobizon error {body['code']}: {body.get('message', '')}"[:300]
            raise (PermanentError if body["code"] in MESSAGE_ERRORS else TransientError)(text)
        return body.get("data")

    def send(self, message: Outgoing) -> str:
        data = self._call(
            SEND_PATH,
            {"recipient": message.to.lstrip("+"), "text": message.body, "apiKey": self._api_key},
        )
        if not isinstance(data, dict) or data.get("messageId") in (None, ""):
            raise TransientError("Mobizon answer has no message id")
        return str(data["messageId"])

    def status(self, provider_ids: list[str], to: str | None = None) -> list[Report]:
        form = [("apiKey", self._api_key)] + [("ids[]", i) for i in provider_ids]
        data = self._call(STATUS_PATH, form)
        reports = []
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict) or item.get("id") is None:
                continue
            raw = str(item.get("status", "")).upper()
            status = (
                "delivered"
                if raw in DELIVERED
                else "undelivered"
                if raw in UNDELIVERED
                else "pending"
            )
            reports.append(Report(str(item["id"]), status, raw))
        return reports

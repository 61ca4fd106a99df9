"""Development inbox: stands in for the SMTP server, the SMS gateways (SMSC.kz, Mobizon) and
the payment provider (sms-notify's PAYMENTS.md).

    python -m dev.inbox --http-port 8025 --smtp-port 1025 --host 127.0.0.1 [--store PATH]
                        [--payment-secret SECRET]

SMTP (any AUTH is accepted): each recipient of a mail becomes a message.
HTTP:
    GET|POST /sys/send.php     login, psw, phones, mes, [id], [fmt=3], [charset]  (as SMSC.kz)
    GET|POST /sys/status.php   login, psw, phone, id, [fmt=3]                     (as SMSC.kz)
    GET|POST /service/message/sendsmsmessage  recipient, text, apiKey, [output=json] (Mobizon)
    GET|POST /service/message/getsmsstatus    ids[] (or ids), apiKey                 (Mobizon)
    GET /messages[?to=...][&with=provider]  what arrived, oldest first; DELETE /messages clears
    POST /admin/faults {"provider": "smsc"|"mobizon"|"payments", "mode": "500"|"timeout"|
                        "garbage", "count": N}   the next N calls to it fail so; DELETE clears
    GET /healthz

The payment provider (signed with ``--payment-secret``, sms-notify's PAYMENT_CALLBACK_SECRET;
its development default unless given):
    POST /payments  {reference, amount, currency, callback_url, [return_url], [description]}
                    headers Idempotency-Key, X-Signature: sha256=<hex HMAC-SHA256 of the body>
                    -> 201 {payment_id, status: "pending", redirect_url}; the same key: the same
                    payment (200); a wrong signature 401; an amount ending in 13 is declined (402)
    GET  /payments[/ID]          what was asked for, and the callbacks sent
    GET  /payments/ID/checkout   the page a citizen pays on (two buttons)
    POST /payments/ID/pay        paid: POSTs the signed callback {payment_id, reference,
    POST /payments/ID/decline    status, amount, currency} to callback_url, again on each call
                                 (a repeated callback), and answers what it answered

As on SMSC.kz, send.php reads parameters as windows-1251 unless ``charset=utf-8`` (or
koi8-r) is given: Kazakh letters (ә, ғ, қ, ң, ө, ұ, ү, һ, і) need ``charset=utf-8``. A client
``id`` already used for a phone is not sent to that phone again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import html
import json
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

SMSC_DEFAULT_CHARSET = "windows-1251"
SMSC_CHARSETS = {"utf-8", "koi8-r", "windows-1251"}
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")
_PUBLIC_FIELDS = ("to", "channel", "subject", "body", "received_at")
FAULT_MODES = {"500", "timeout", "garbage"}
PROVIDERS = {"smsc", "mobizon", "payments"}
TIMEOUT_SECONDS = 30.0  # longer than any client's read timeout: it gives up first
# sms-notify's development PAYMENT_CALLBACK_SECRET (sms_notify/settings.py; a test keeps the two
# equal): `make run` works without configuring either side.
DEV_PAYMENT_SECRET = "dev-only-payment-callback-secret"  # noqa: S105 - development only
CALLBACK_TIMEOUT_SECONDS = 10.0
_PAYMENT_PATH = re.compile(r"^/payments/(?P<id>[A-Za-z0-9_-]{1,64})(?P<action>/[a-z]+)?$")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalize_phone(raw: str) -> str | None:
    """E.164 for a Kazakh (or other +7) mobile number written as +7..., 7..., 8... or 7xx...;
    None if it is not a phone number."""
    digits = re.sub(r"[\s()-]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
        if digits.isdigit() and 11 <= len(digits) <= 15:
            return "+" + digits
        return None
    if not digits.isdigit():
        return None
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "7":  # local 7xx xxx xx xx
        return "+7" + digits
    return None


class Inbox:
    """Messages in memory, optionally appended to a JSON-lines file and reloaded from it."""

    def __init__(self, store: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store
        self._messages: list[dict] = []
        self._sms: dict[tuple[str, str], dict] = {}  # (phone, message id) -> latest message
        self._client_ids: set[tuple[str, str]] = set()  # (phone, client id) already sent
        self._next_id = 1
        self._faults: dict[str, list] = {}  # provider -> [mode, calls left]
        self._payments: dict[str, dict] = {}  # payment id -> the payment (in memory only)
        self._payment_keys: dict[str, str] = {}  # idempotency key -> payment id
        if store is not None and store.exists():
            with store.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        self._remember(json.loads(line))
                    except ValueError:
                        continue  # a line cut short when the process was killed

    def _remember(self, message: dict) -> None:
        self._messages.append(message)
        if message["channel"] == "sms":
            sms_id = message["sms_id"]
            self._sms[(message["to"], str(sms_id))] = message
            if message.get("client_id") is not None:
                self._client_ids.add((message["to"], message["client_id"]))
            else:
                self._next_id = max(self._next_id, int(sms_id) + 1)

    def _save(self, messages: list[dict]) -> None:
        if self._store is None or not messages:
            return
        self._store.parent.mkdir(parents=True, exist_ok=True)
        with self._store.open("a", encoding="utf-8") as f:
            for message in messages:
                f.write(json.dumps(message, ensure_ascii=False) + "\n")

    def add_email(self, recipients: list[str], subject: str, body: str) -> None:
        now = now_utc().isoformat()
        messages = [
            {"to": to, "channel": "email", "subject": subject, "body": body, "received_at": now}
            for to in recipients
        ]
        with self._lock:
            for message in messages:
                self._remember(message)
            self._save(messages)

    def set_fault(self, provider: str, mode: str, count: int) -> None:
        with self._lock:
            self._faults[provider] = [mode, count]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, provider: str) -> str | None:
        """The failure this call to the provider must show, if one is set (counts it down)."""
        with self._lock:
            fault = self._faults.get(provider)
            if not fault or fault[1] <= 0:
                return None
            fault[1] -= 1
            return fault[0]

    def send_sms(
        self, phones: list[str], body: str, client_id: str | None, provider: str = "smsc"
    ) -> str | int:
        """Store the SMS for each phone; returns the message id (the client's, if given)."""
        received_at = now_utc().isoformat()
        with self._lock:
            sms_id: str | int
            if client_id is None:
                sms_id, self._next_id = self._next_id, self._next_id + 1
            else:
                sms_id = int(client_id) if client_id.isdigit() else client_id
            new = []
            for phone in phones:
                if client_id is not None and (phone, client_id) in self._client_ids:
                    continue  # already sent to this phone: SMSC does not send it twice
                message = {
                    "to": phone,
                    "channel": "sms",
                    "subject": None,
                    "body": body,
                    "received_at": received_at,
                    "sms_id": sms_id,
                    "client_id": client_id,
                    "provider": provider,
                }
                self._remember(message)
                new.append(message)
            self._save(new)
        return sms_id

    def sms_by_id(self, sms_id: str, provider: str) -> dict | None:
        with self._lock:
            for (_phone, stored_id), message in self._sms.items():
                if stored_id == sms_id and message.get("provider", "smsc") == provider:
                    return message
        return None

    def sms_status(self, phone: str, sms_id: str) -> dict | None:
        with self._lock:
            return self._sms.get((phone, sms_id))

    def messages(self, to: str | None = None, with_provider: bool = False) -> list[dict]:
        with self._lock:
            found = [m for m in self._messages if to is None or _same_recipient(m["to"], to)]
        fields = _PUBLIC_FIELDS
        out = [{key: m[key] for key in fields} for m in found]
        if with_provider:
            for shown, m in zip(out, found, strict=True):
                default = "smtp" if m["channel"] == "email" else "smsc"
                shown["provider"] = m.get("provider") or default
        return out

    # The payment provider

    def create_payment(self, key: str, request: dict) -> tuple[dict, bool]:
        """(the payment, whether it is new): one payment per idempotency key."""
        with self._lock:
            known = self._payment_keys.get(key)
            if known is not None:
                return dict(self._payments[known]), False
            payment = {
                "payment_id": "pay-" + uuid.uuid4().hex[:20],
                "reference": request["reference"],
                "amount": request["amount"],
                "currency": request["currency"],
                "description": request.get("description"),
                "callback_url": request["callback_url"],
                "return_url": request.get("return_url"),
                "status": "pending",
                "created_at": now_utc().isoformat(),
                "callbacks": [],
            }
            self._payments[payment["payment_id"]] = payment
            self._payment_keys[key] = payment["payment_id"]
            return dict(payment), True

    def payment(self, payment_id: str) -> dict | None:
        with self._lock:
            found = self._payments.get(payment_id)
            return None if found is None else {**found, "callbacks": list(found["callbacks"])}

    def payments(self) -> list[dict]:
        with self._lock:
            return [{**p, "callbacks": list(p["callbacks"])} for p in self._payments.values()]

    def settle_payment(self, payment_id: str, outcome: str) -> dict | None:
        """Move a pending payment to paid or declined; a settled one keeps its outcome."""
        with self._lock:
            found = self._payments.get(payment_id)
            if found is None:
                return None
            if found["status"] == "pending":
                found["status"] = outcome
                found["settled_at"] = now_utc().isoformat()
            return dict(found)

    def note_callback(self, payment_id: str, result: dict) -> None:
        with self._lock:
            self._payments[payment_id]["callbacks"].append(result)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._sms.clear()
            self._client_ids.clear()
            if self._store is not None and self._store.exists():
                self._store.write_text("", encoding="utf-8")


def _same_recipient(stored: str, wanted: str) -> bool:
    if "@" in wanted:
        return stored.casefold() == wanted.casefold()
    return stored == (normalize_phone(wanted) or wanted)


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_callback(payment: dict, secret: str) -> dict:
    """POST the payment's outcome, signed, to its callback URL; what came back (never raises:
    a service that is down is what the caller wants to see)."""
    body = json.dumps(
        {
            "payment_id": payment["payment_id"],
            "reference": payment["reference"],
            "status": payment["status"],
            "amount": payment["amount"],
            "currency": payment["currency"],
        },
        ensure_ascii=False,
    ).encode("utf-8")
    # The callback URL was checked to be http(s) when the payment was created.
    request = urllib.request.Request(  # noqa: S310
        payment["callback_url"],
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Signature": _signature(secret, body)},
    )
    at = now_utc().isoformat()
    try:
        with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return {"at": at, "status_code": answer.status, "body": _json_or_text(answer.read())}
    except urllib.error.HTTPError as exc:
        return {"at": at, "status_code": exc.code, "body": _json_or_text(exc.read())}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"at": at, "status_code": None, "error": type(exc).__name__}


def _json_or_text(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")[:500]


# --- SMTP ------------------------------------------------------------------------------------


def _plain_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        text = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").rstrip("\n")


class SmtpHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subject = str(message.get("subject", ""))
        self.inbox.add_email(list(envelope.rcpt_tos), subject, _plain_text(message))
        return "250 Message accepted for delivery"


def _accept_any_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    # Lets services keep the SMTP user and password they use in production.
    return AuthResult(success=True)


# --- HTTP ------------------------------------------------------------------------------------


MOBIZON_SEND = "/service/message/sendsmsmessage"
MOBIZON_STATUS = "/service/message/getsmsstatus"


class SmscError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class InboxHandler(BaseHTTPRequestHandler):
    server_version = "dev-inbox"

    @property
    def inbox(self) -> Inbox:
        return self.server.inbox  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        routes = {
            ("GET", "/healthz"): lambda: self._json(200, {"status": "ok"}),
            ("GET", "/messages"): lambda: self._list_messages(url.query),
            ("DELETE", "/messages"): self._clear_messages,
            ("GET", "/sys/send.php"): lambda: self._smsc(url.query, self._send),
            ("POST", "/sys/send.php"): lambda: self._smsc(url.query, self._send),
            ("GET", "/sys/status.php"): lambda: self._smsc(url.query, self._status),
            ("POST", "/sys/status.php"): lambda: self._smsc(url.query, self._status),
            ("GET", MOBIZON_SEND): lambda: self._mobizon(url.query, self._mobizon_send),
            ("POST", MOBIZON_SEND): lambda: self._mobizon(url.query, self._mobizon_send),
            ("GET", MOBIZON_STATUS): lambda: self._mobizon(url.query, self._mobizon_status),
            ("POST", MOBIZON_STATUS): lambda: self._mobizon(url.query, self._mobizon_status),
            ("POST", "/admin/faults"): self._set_fault,
            ("DELETE", "/admin/faults"): self._clear_faults,
        }
        routes.update(
            {
                ("POST", "/payments"): self._create_payment,
                ("GET", "/payments"): lambda: self._json(200, self.inbox.payments()),
            }
        )
        route = routes.get((self.command, url.path))
        paying = _PAYMENT_PATH.match(url.path)
        if route is not None:
            route()
        elif paying is not None:
            self._payment_action(paying["id"], paying["action"] or "")
        elif any(path == url.path for _, path in routes):
            self._json(405, {"error": "method not allowed"})
        else:
            self._json(404, {"error": "not found"})

    def _list_messages(self, query: str) -> None:
        params = dict(parse_qsl(query))
        to = params.get("to", "").strip()  # a bare "+" arrives as a space
        self._json(200, self.inbox.messages(to or None, params.get("with") == "provider"))

    # Faults: how tests make a provider fail for a while

    def _set_fault(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            provider, mode, count = body["provider"], str(body["mode"]), int(body["count"])
        except (ValueError, KeyError, TypeError):
            self._json(400, {"error": "expected provider, mode and count"})
            return
        if provider not in PROVIDERS or mode not in FAULT_MODES or count < 0:
            self._json(
                400, {"error": f"provider in {sorted(PROVIDERS)}, mode in {sorted(FAULT_MODES)}"}
            )
            return
        self.inbox.set_fault(provider, mode, count)
        self._json(200, {"provider": provider, "mode": mode, "count": count})

    def _clear_faults(self) -> None:
        self.inbox.clear_faults()
        self._json(200, {"cleared": True})

    def _fault(self, provider: str) -> bool:
        """Answer as a failing provider would; True if it did (the call goes no further)."""
        mode = self.inbox.take_fault(provider)
        if mode is None:
            return False
        if mode == "timeout":
            threading.Event().wait(TIMEOUT_SECONDS)
            self._json(504, {"error": "timeout"})
        elif mode == "garbage":
            self._send_body(200, "text/html", b"<html>Bad gateway</html>")
        else:
            self._json(500, {"error": "internal error"})
        return True

    # The payment provider

    @property
    def payment_secret(self) -> str:
        return self.server.payment_secret  # type: ignore[attr-defined]

    def _create_payment(self) -> None:
        raw = self._body()
        if self._fault("payments"):
            return
        given = self.headers.get("X-Signature", "")
        if not hmac.compare_digest(given.encode(), _signature(self.payment_secret, raw).encode()):
            self._json(401, {"error": "invalid signature", "reason": "The signature is wrong."})
            return
        try:
            request = json.loads(raw)
            if not isinstance(request, dict):
                raise ValueError
            amount = request["amount"]
            ok = (
                isinstance(request["reference"], str)
                and request["reference"]
                and isinstance(amount, int)
                and not isinstance(amount, bool)
                and amount > 0
                and isinstance(request["currency"], str)
                and urlsplit(str(request["callback_url"])).scheme in ("http", "https")
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            self._json(422, {"error": "expected reference, amount > 0, currency, callback_url"})
            return
        if amount % 100 == 13:  # to try the declined path by hand
            self._json(402, {"error": "declined", "reason": "Declined by the dev provider."})
            return
        key = self.headers.get("Idempotency-Key") or request["reference"]
        payment, new = self.inbox.create_payment(key, request)
        host, port = self.server.server_address[:2]  # type: ignore[attr-defined]
        redirect = f"http://{host}:{port}/payments/{payment['payment_id']}/checkout"
        self._json(
            201 if new else 200,
            {"payment_id": payment["payment_id"], "status": "pending", "redirect_url": redirect},
        )

    def _payment_action(self, payment_id: str, action: str) -> None:
        payment = self.inbox.payment(payment_id)
        if payment is None:
            self._json(404, {"error": "no such payment"})
        elif self.command == "GET" and action == "":
            self._json(200, payment)
        elif self.command == "GET" and action == "/checkout":
            self._checkout(payment)
        elif self.command == "POST" and action in ("/pay", "/decline"):
            self._body()
            outcome = "paid" if action == "/pay" else "declined"
            settled = self.inbox.settle_payment(payment_id, outcome)
            result = _send_callback(settled, self.payment_secret)
            self.inbox.note_callback(payment_id, result)
            self._json(200, {**settled, "callback": result})
        else:
            self._json(405, {"error": "method not allowed"})

    def _checkout(self, payment: dict) -> None:
        pid = html.escape(payment["payment_id"])
        page = (
            "<!doctype html><meta charset=utf-8><title>Dev payment</title>"
            f"<h1>{payment['amount']} {html.escape(payment['currency'])}</h1>"
            f"<p>{html.escape(payment.get('description') or '')}</p>"
            f"<p>Status: {html.escape(payment['status'])}</p>"
            f'<form method=post action="/payments/{pid}/pay"><button>Pay</button></form>'
            f'<form method=post action="/payments/{pid}/decline"><button>Decline</button></form>'
        )
        self._send_body(200, "text/html; charset=utf-8", page.encode("utf-8"))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # Mobizon

    def _mobizon(self, query: str, action) -> None:
        if self._fault("mobizon"):
            return
        raw = query
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            raw += "&" + self.rfile.read(length).decode("utf-8", errors="replace")
        pairs = parse_qsl(raw, keep_blank_values=True)
        if not dict(pairs).get("apiKey"):
            self._json(200, {"code": 8, "data": [], "message": "apiKey is required"})
            return
        code, data, message = action(pairs)
        self._json(200, {"code": code, "data": data, "message": message})

    def _mobizon_send(self, pairs: list[tuple[str, str]]) -> tuple[int, object, str]:
        params = dict(pairs)
        # Mobizon takes the number without "+": 77010000001.
        phone = normalize_phone(params.get("recipient", ""))
        if phone is None:
            return 1, {"recipient": "invalid recipient"}, "validation error"
        if not params.get("text"):
            return 1, {"text": "text is required"}, "validation error"
        sms_id = self.inbox.send_sms([phone], params["text"], None, provider="mobizon")
        data = {"campaignId": str(sms_id), "messageId": str(sms_id), "status": 1}
        return 0, data, ""

    def _mobizon_status(self, pairs: list[tuple[str, str]]) -> tuple[int, object, str]:
        ids = [v for k, v in pairs if k in ("ids[]", "ids")]
        found = []
        for sms_id in ids:
            message = self.inbox.sms_by_id(sms_id, provider="mobizon")
            if message is not None:
                found.append({"id": sms_id, "status": "DELIVRD", "segNum": 1})
        return 0, found, ""

    def _clear_messages(self) -> None:
        self.inbox.clear()
        self._json(200, {"cleared": True})

    # SMSC.kz

    def _smsc_params(self, query: str) -> dict[str, str]:
        raw = query
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            raw += "&" + self.rfile.read(length).decode("latin-1")
        # Latin-1 keeps every byte as one character, so it can be decoded once the charset is
        # known.
        params = dict(parse_qsl(raw, keep_blank_values=True, encoding="latin-1"))
        charset = params.get("charset", "").lower() or SMSC_DEFAULT_CHARSET
        if charset not in SMSC_CHARSETS:
            charset = SMSC_DEFAULT_CHARSET
        return {
            key: value.encode("latin-1").decode(charset, errors="replace")
            for key, value in params.items()
        }

    def _smsc(self, query: str, action) -> None:
        if self._fault("smsc"):
            return
        params = self._smsc_params(query)
        fmt = params.get("fmt", "0")
        try:
            if not params.get("login") or not params.get("psw"):
                raise SmscError(2, "authorise error")
            answer, text = action(params)
        except SmscError as exc:
            answer = {"error": str(exc), "error_code": exc.code}
            text = f"ERROR = {exc.code} ({exc})"
        if fmt == "3":
            self._json(200, answer, ascii_only=True)
        else:
            self._send_body(200, "text/plain; charset=utf-8", text.encode("utf-8"))

    def _send(self, params: dict[str, str]) -> tuple[dict, str]:
        if not params.get("phones") or not params.get("mes"):
            raise SmscError(1, "parameters error: phones and mes are required")
        client_id = params.get("id") or None
        if client_id is not None and not _CLIENT_ID.fullmatch(client_id):
            raise SmscError(1, "parameters error: invalid id")
        phones = []
        for raw in re.split(r"[,;]", params["phones"]):
            phone = normalize_phone(raw)
            if phone and phone not in phones:
                phones.append(phone)
        if not phones:
            raise SmscError(7, "invalid number")
        sms_id = self.inbox.send_sms(phones, params["mes"], client_id)
        return {"id": sms_id, "cnt": len(phones)}, f"OK - {len(phones)} SMS, ID - {sms_id}"

    def _status(self, params: dict[str, str]) -> tuple[dict, str]:
        phone = normalize_phone(params.get("phone", "").split(",")[0])
        sms_id = params.get("id", "").split(",")[0].strip()
        if not phone or not sms_id:
            raise SmscError(1, "parameters error: phone and id are required")
        message = self.inbox.sms_status(phone, sms_id)
        if message is None:
            raise SmscError(9, "message not found")
        sent = dt.datetime.fromisoformat(message["received_at"])
        last_date = f"{sent:%d.%m.%Y %H:%M:%S}"
        answer = {
            "status": 1,  # delivered
            "last_date": last_date,
            "last_timestamp": int(sent.timestamp()),
            "err": 0,
        }
        return answer, f"Status = 1, check_time = {last_date}"

    # Plumbing

    def _json(self, status: int, body, ascii_only: bool = False) -> None:
        data = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8")
        self._send_body(status, "application/json; charset=utf-8", data)

    def _send_body(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-") -> None:
        # Without the query string: it carries the SMSC password and phone numbers.
        self.log_message("%s %s %s", self.command, urlsplit(self.path).path, code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.inbox", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--store", type=Path, help="JSON-lines file to keep messages across runs")
    parser.add_argument(
        "--payment-secret",
        default=DEV_PAYMENT_SECRET,
        help="the payment provider's shared secret (sms-notify's PAYMENT_CALLBACK_SECRET)",
    )
    args = parser.parse_args(argv)

    inbox = Inbox(args.store)
    smtp = Controller(
        SmtpHandler(inbox),
        hostname=args.host,
        port=args.smtp_port,
        authenticator=_accept_any_login,
        auth_require_tls=False,
    )
    try:
        smtp.start()
    except OSError as exc:
        print(f"dev inbox: no SMTP on {args.host}:{args.smtp_port}: {exc}", file=sys.stderr)
        return 1
    try:
        http = ThreadingHTTPServer((args.host, args.http_port), InboxHandler)
    except OSError as exc:
        smtp.stop()
        print(f"dev inbox: no HTTP on {args.host}:{args.http_port}: {exc}", file=sys.stderr)
        return 1
    http.daemon_threads = True
    http.inbox = inbox  # type: ignore[attr-defined]
    http.payment_secret = args.payment_secret  # type: ignore[attr-defined]

    def stop(signum, frame) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run on its thread.
        threading.Thread(target=http.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"dev inbox: HTTP http://{args.host}:{args.http_port}, SMTP {args.host}:{args.smtp_port}",
        file=sys.stderr,
        flush=True,
    )
    try:
        http.serve_forever()
    finally:
        http.server_close()
        smtp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The SMTP and SMSC adapters: what they send, and how they sort failures."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
import requests

from sms_notify.adapters.channels import Outgoing, PermanentError, TransientError
from sms_notify.adapters.smsc import SmscChannel, client_id, send_url
from sms_notify.adapters.smtp import SmtpChannel

MESSAGE_ID = "3f9a0c2e8b7d4e1f9a0c2e8b7d4e1f9a"
SMS = Outgoing(id=MESSAGE_ID, channel="sms", to="+77011234567", body="Кіру коды: 482913.")
MAIL = Outgoing(
    id=MESSAGE_ID,
    channel="email",
    to="parent@example.kz",
    subject="Подтверждение адреса электронной почты",
    body="Ваш код подтверждения: 482913",
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_mail_is_utf8_with_a_stable_message_id():
    channel = SmtpChannel("127.0.0.1", 25, "no-reply@edu.example.kz")
    first, second = channel.compose(MAIL), channel.compose(MAIL)
    assert first["Message-ID"] == second["Message-ID"] == f"<{MESSAGE_ID}@edu.example.kz>"
    raw = first.as_bytes()
    assert raw.isascii()  # encoded for any server, 8BITMIME or not
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == MAIL.subject
    assert parsed.get_content().strip() == MAIL.body


def test_an_unreachable_smtp_server_is_transient():
    channel = SmtpChannel("127.0.0.1", closed_port(), "no-reply@edu.example.kz", timeout=2)
    with pytest.raises(TransientError):
        channel.send(MAIL)


class FakeResponse:
    def __init__(self, status: int, body):
        self.status_code = status
        self._body = body

    def json(self):
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class FakeSession:
    def __init__(self, answer):
        self.answer = answer
        self.calls: list[tuple[str, dict]] = []

    def post(self, url, data, timeout):
        self.calls.append((url, data))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def smsc(answer, **kw) -> tuple[SmscChannel, FakeSession]:
    session = FakeSession(answer)
    return SmscChannel("https://smsc.kz", "edu", "secret", session=session, **kw), session


def test_smsc_gets_the_form_it_expects_and_answers_its_id():
    channel, session = smsc(FakeResponse(200, {"id": 71, "cnt": 1}), sender="EDU")
    assert channel.send(SMS) == "71"
    [(url, form)] = session.calls
    assert url == "https://smsc.kz/sys/send.php"
    assert form == {
        "login": "edu",
        "psw": "secret",
        "phones": "+77011234567",
        "mes": "Кіру коды: 482913.",
        "id": client_id(MESSAGE_ID),
        "fmt": "3",
        "charset": "utf-8",
        "sender": "EDU",
    }


def test_the_client_id_is_stable_numeric_and_json_safe():
    value = client_id(MESSAGE_ID)
    assert value == client_id(MESSAGE_ID)
    assert value.isdigit() and 0 < int(value) < 2**52
    assert client_id("0" * 32) == "1"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8025/sys/send.php", "http://127.0.0.1:8025", "http://127.0.0.1:8025/"],
)
def test_the_url_may_be_the_endpoint_or_the_gateway(url):
    assert send_url(url) == "http://127.0.0.1:8025/sys/send.php"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (FakeResponse(200, {"error": "invalid number", "error_code": 7}), PermanentError),
        (FakeResponse(200, {"error": "message is denied", "error_code": 6}), PermanentError),
        (FakeResponse(200, {"error": "no money", "error_code": 3}), TransientError),
        (FakeResponse(200, {"error": "authorise error", "error_code": 2}), TransientError),
        (FakeResponse(200, ValueError("not json")), TransientError),
        (FakeResponse(200, {"cnt": 1}), TransientError),
        (FakeResponse(503, {}), TransientError),
        (FakeResponse(429, {}), TransientError),
        (FakeResponse(400, {}), PermanentError),
        (requests.ConnectTimeout("slow"), TransientError),
        (requests.ReadTimeout("slow"), TransientError),
        (requests.ConnectionError("refused"), TransientError),
    ],
)
def test_smsc_failures_are_sorted(answer, kind):
    channel, _ = smsc(answer)
    with pytest.raises(kind) as err:
        channel.send(SMS)
    assert "482913" not in str(err.value) and "secret" not in str(err.value)

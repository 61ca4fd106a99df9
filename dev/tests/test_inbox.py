"""The development inbox, run as its own process, as services and tests use it."""

import hashlib
import hmac
import json
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from dev import inbox as dev_inbox
from sms_notify import settings as notify_settings

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"login": "dev", "psw": "dev", "fmt": "3"}
SECRET = dev_inbox.DEV_PAYMENT_SECRET


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningInbox:
    def __init__(self, tmp_path: Path, store: Path | None = None) -> None:
        self.http_port, self.smtp_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        command = [
            sys.executable, "-m", "dev.inbox", "--host", "127.0.0.1",
            "--http-port", str(self.http_port), "--smtp-port", str(self.smtp_port),
        ]  # fmt: skip
        if store is not None:
            command += ["--store", str(store)]
        self.log = tmp_path / f"inbox-{self.http_port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"inbox exited early:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"inbox not ready within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def send_sms(self, method: str = "get", **params) -> dict:
        params = {**CREDENTIALS, **params}
        if method == "post":
            response = requests.post(f"{self.url}/sys/send.php", data=params, timeout=5)
        else:
            response = requests.get(f"{self.url}/sys/send.php", params=params, timeout=5)
        assert response.status_code == 200
        return response.json()

    def messages(self, to: str | None = None) -> list[dict]:
        query = "" if to is None else f"?to={to}"
        response = requests.get(f"{self.url}/messages{query}", timeout=5)
        assert response.status_code == 200
        return response.json()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    inbox = RunningInbox(tmp_path_factory.mktemp("inbox"))
    yield inbox
    assert inbox.stop() == 0


@pytest.fixture
def inbox(running):
    requests.delete(f"{running.url}/messages", timeout=5).raise_for_status()
    return running


def test_healthz(inbox):
    assert requests.get(f"{inbox.url}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{inbox.url}/nowhere", timeout=5).status_code == 404


def test_email_with_cyrillic_subject_and_body(inbox):
    mail = EmailMessage()
    mail["From"] = "noreply@edu.example.kz"
    mail["To"] = "Aigerim@Example.kz, parent@example.kz"
    mail["Subject"] = "Растау коды: тіркелу / Код подтверждения"
    mail.set_content("Сіздің кодыңыз: 482913\nВаш код: 482913\n")
    with smtplib.SMTP("127.0.0.1", inbox.smtp_port, timeout=10) as smtp:
        smtp.login("platform", "secret")
        smtp.send_message(mail)

    [message] = inbox.messages("aigerim@example.kz")
    assert message["to"] == "Aigerim@Example.kz"
    assert message["channel"] == "email"
    assert message["subject"] == "Растау коды: тіркелу / Код подтверждения"
    assert message["body"] == "Сіздің кодыңыз: 482913\nВаш код: 482913"
    assert message["received_at"].endswith("+00:00")
    assert [m["to"] for m in inbox.messages()] == ["Aigerim@Example.kz", "parent@example.kz"]


def test_sms_is_stored_with_e164_phones(inbox):
    answer = inbox.send_sms(
        phones="+77010000001;77010000002, 87010000003", mes="Код: 1234", charset="utf-8"
    )
    assert answer["cnt"] == 3
    assert isinstance(answer["id"], int)
    [message] = inbox.messages("%2B77010000001")
    assert message == {
        "to": "+77010000001",
        "channel": "sms",
        "subject": None,
        "body": "Код: 1234",
        "received_at": message["received_at"],
    }
    assert len(inbox.messages("+77010000002")) == 1  # a literal "+" decodes as a space
    assert len(inbox.messages("%2B77010000003")) == 1
    assert len(inbox.messages()) == 3


def test_sms_by_post_with_kazakh_text(inbox):
    text = "Балаңыз кезекте 5-ші орында. Ваш ребёнок 5-й в очереди."
    answer = inbox.send_sms("post", phones="+77010000001", mes=text, charset="utf-8", id="77")
    assert answer == {"id": 77, "cnt": 1}
    assert [m["body"] for m in inbox.messages("%2B77010000001")] == [text]


def test_sms_default_charset_is_windows_1251(inbox):
    inbox.send_sms(phones="+77010000001", mes="Ваш код: 1234".encode("cp1251"))
    assert [m["body"] for m in inbox.messages("%2B77010000001")] == ["Ваш код: 1234"]


def test_repeated_client_id_is_not_stored_twice(inbox):
    first = inbox.send_sms(phones="+77010000001", mes="Код: 1111", id="1001", charset="utf-8")
    again = inbox.send_sms(phones="77010000001", mes="Код: 1111", id="1001", charset="utf-8")
    assert first == again == {"id": 1001, "cnt": 1}
    assert len(inbox.messages("%2B77010000001")) == 1
    # The same id to another phone is another message; without an id nothing is deduplicated.
    inbox.send_sms(phones="+77010000001,+77010000002", mes="Код: 1111", id="1001")
    assert len(inbox.messages("%2B77010000002")) == 1
    assert len(inbox.messages("%2B77010000001")) == 1
    inbox.send_sms(phones="+77010000001", mes="Код: 2222")
    inbox.send_sms(phones="+77010000001", mes="Код: 2222")
    assert len(inbox.messages("%2B77010000001")) == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"login": "", "psw": "x", "phones": "+77010000001", "mes": "hi"}, 2),
        ({"login": "dev", "phones": "+77010000001", "mes": "hi"}, 2),
        ({"login": "dev", "psw": "dev", "mes": "hi"}, 1),
        ({"login": "dev", "psw": "dev", "phones": "+77010000001"}, 1),
        ({"login": "dev", "psw": "dev", "phones": "12345", "mes": "hi"}, 7),
        ({"login": "dev", "psw": "dev", "phones": "+77010000001", "mes": "hi", "id": "a b"}, 1),
    ],
)
def test_send_errors(inbox, params, code):
    response = requests.get(f"{inbox.url}/sys/send.php", params={**params, "fmt": "3"}, timeout=5)
    answer = response.json()
    assert answer["error_code"] == code
    assert answer["error"]
    assert inbox.messages() == []


def test_send_text_answer_without_fmt(inbox):
    params = {"login": "dev", "psw": "dev", "phones": "+77010000001", "mes": "hi", "id": "5"}
    response = requests.get(f"{inbox.url}/sys/send.php", params=params, timeout=5)
    assert response.text == "OK - 1 SMS, ID - 5"
    response = requests.get(f"{inbox.url}/sys/send.php", params={"mes": "hi"}, timeout=5)
    assert response.text.startswith("ERROR = 2 ")


def test_status(inbox):
    inbox.send_sms(phones="+77010000001", mes="hi", id="42")
    status = requests.get(
        f"{inbox.url}/sys/status.php",
        params={**CREDENTIALS, "phone": "77010000001", "id": "42"},
        timeout=5,
    ).json()
    assert status["status"] == 1
    assert status["err"] == 0
    assert status["last_date"]

    unknown = requests.get(
        f"{inbox.url}/sys/status.php",
        params={**CREDENTIALS, "phone": "+77010000001", "id": "43"},
        timeout=5,
    ).json()
    assert unknown["error_code"] == 9
    params = {"phone": "+77010000001", "id": "42", "fmt": "3"}
    no_auth = requests.get(f"{inbox.url}/sys/status.php", params=params, timeout=5).json()
    assert no_auth["error_code"] == 2


def test_delete_clears(inbox):
    inbox.send_sms(phones="+77010000001", mes="hi", id="9")
    assert requests.delete(f"{inbox.url}/messages", timeout=5).status_code == 200
    assert inbox.messages() == []
    # Cleared means forgotten: the same id can be sent again.
    inbox.send_sms(phones="+77010000001", mes="hi", id="9")
    assert len(inbox.messages()) == 1


def test_store_survives_restart_and_sigterm_stops(tmp_path):
    store = tmp_path / "inbox.jsonl"
    first = RunningInbox(tmp_path, store)
    try:
        first.send_sms(phones="+77010000001", mes="Код: 1234", id="7", charset="utf-8")
        generated = first.send_sms(phones="+77010000001", mes="hi")["id"]
    finally:
        assert first.stop() == 0
    lines = [json.loads(line) for line in store.read_text(encoding="utf-8").splitlines()]
    assert [m["body"] for m in lines] == ["Код: 1234", "hi"]

    second = RunningInbox(tmp_path, store)
    try:
        assert [m["body"] for m in second.messages("%2B77010000001")] == ["Код: 1234", "hi"]
        second.send_sms(phones="+77010000001", mes="Код: 1234", id="7", charset="utf-8")
        assert len(second.messages()) == 2  # the client id is remembered across restarts
        assert second.send_sms(phones="+77010000001", mes="hi")["id"] == generated + 1
    finally:
        assert second.stop() == 0


def test_sigint_stops(tmp_path):
    running = RunningInbox(tmp_path)
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=10) == 0


# --- the payment provider -------------------------------------------------------------------


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Merchant:
    """The merchant's callback endpoint (sms-notify's, in life): records what it is sent."""

    def __init__(self, answer: int = 200):
        self.received: list[tuple[bytes, str]] = []
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                merchant.received.append((raw, self.headers.get("X-Signature", "")))
                data = json.dumps({"ok": True}).encode()
                self.send_response(merchant.answer)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.answer = answer
        self.server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/providers/payments/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def merchant():
    m = Merchant()
    yield m
    m.stop()


def create_payment(inbox, merchant, amount=500, key=None, secret=SECRET, **over):
    body = json.dumps(
        {
            "reference": over.pop("reference", uuid.uuid4().hex),
            "amount": amount,
            "currency": "KZT",
            "description": "SMS balance top-up",
            "callback_url": merchant.url,
            "return_url": None,
            **over,
        }
    ).encode()
    headers = {"Content-Type": "application/json", "X-Signature": sign(body, secret)}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(f"{inbox.url}/payments", data=body, headers=headers, timeout=5)


def test_the_development_payment_secret_is_sms_notifys():
    assert SECRET == notify_settings.DEV_PAYMENT_SECRET
    assert notify_settings.Settings().payment_provider_url == "http://127.0.0.1:8025"


def test_a_payment_is_created_once_per_key_and_shown_on_a_page(inbox, merchant):
    key = uuid.uuid4().hex
    first = create_payment(inbox, merchant, key=key, reference="top-1")
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["status"] == "pending" and created["payment_id"]
    assert created["redirect_url"] == f"{inbox.url}/payments/{created['payment_id']}/checkout"
    again = create_payment(inbox, merchant, key=key, reference="top-1")
    assert again.status_code == 200 and again.json() == created
    page = requests.get(created["redirect_url"], timeout=5)
    assert page.status_code == 200 and "500 KZT" in page.text and "/pay" in page.text
    shown = requests.get(f"{inbox.url}/payments/{created['payment_id']}", timeout=5).json()
    assert shown["reference"] == "top-1" and shown["status"] == "pending"
    assert merchant.received == []  # nothing is said before the citizen pays


def test_paying_sends_the_signed_callback_each_time(inbox, merchant):
    created = create_payment(inbox, merchant, amount=1200, reference="top-2").json()
    url = f"{inbox.url}/payments/{created['payment_id']}"
    paid = requests.post(f"{url}/pay", timeout=15).json()
    assert paid["status"] == "paid" and paid["callback"]["status_code"] == 200
    [(raw, signature)] = merchant.received
    assert signature == sign(raw)
    assert json.loads(raw) == {
        "payment_id": created["payment_id"],
        "reference": "top-2",
        "status": "paid",
        "amount": 1200,
        "currency": "KZT",
    }
    # Paying again repeats the callback (providers do); declining a paid payment does not undo.
    assert requests.post(f"{url}/pay", timeout=15).json()["status"] == "paid"
    assert requests.post(f"{url}/decline", timeout=15).json()["status"] == "paid"
    assert len(merchant.received) == 3
    assert {json.loads(r)["status"] for r, _ in merchant.received} == {"paid"}
    assert len(requests.get(url, timeout=5).json()["callbacks"]) == 3


def test_declining_sends_declined(inbox, merchant):
    created = create_payment(inbox, merchant).json()
    url = f"{inbox.url}/payments/{created['payment_id']}"
    assert requests.post(f"{url}/decline", timeout=15).json()["status"] == "declined"
    assert requests.post(f"{url}/pay", timeout=15).json()["status"] == "declined"
    assert [json.loads(r)["status"] for r, _ in merchant.received] == ["declined", "declined"]


def test_a_callback_the_merchant_cannot_take_is_reported(inbox):
    down = Merchant()
    down.stop()
    created = create_payment(inbox, down).json()
    paid = requests.post(f"{inbox.url}/payments/{created['payment_id']}/pay", timeout=15).json()
    assert paid["status"] == "paid" and paid["callback"]["status_code"] is None
    refusing = Merchant(answer=401)
    try:
        created = create_payment(inbox, refusing).json()
        url = f"{inbox.url}/payments/{created['payment_id']}/pay"
        assert requests.post(url, timeout=15).json()["callback"]["status_code"] == 401
    finally:
        refusing.stop()


def test_payment_requests_must_be_signed_and_well_formed(inbox, merchant):
    r = create_payment(inbox, merchant, secret="not-the-secret")
    assert r.status_code == 401
    for bad in ({"amount": 0}, {"amount": "500"}, {"callback_url": "file:///etc/passwd"}):
        amount = bad.pop("amount", 500)
        assert create_payment(inbox, merchant, amount=amount, **bad).status_code == 422
    body = b"not json"
    r = requests.post(
        f"{inbox.url}/payments", data=body, headers={"X-Signature": sign(body)}, timeout=5
    )
    assert r.status_code == 422
    assert create_payment(inbox, merchant, amount=1013).status_code == 402
    assert requests.get(f"{inbox.url}/payments/nope", timeout=5).status_code == 404
    assert requests.post(f"{inbox.url}/payments/nope/pay", timeout=5).status_code == 404


def test_the_provider_can_be_told_to_fail(inbox, merchant):
    fault = {"provider": "payments", "mode": "500", "count": 1}
    assert requests.post(f"{inbox.url}/admin/faults", json=fault, timeout=5).status_code == 200
    assert create_payment(inbox, merchant).status_code == 500
    assert create_payment(inbox, merchant).status_code == 201

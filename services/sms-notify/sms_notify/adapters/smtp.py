"""E-mail over SMTP: UTF-8 subject and body, a Message-ID that stays the same on every try."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from sms_notify.adapters.channels import Outgoing, PermanentError, TransientError


def message_id(our_id: str, sender: str) -> str:
    # Stable across retries, so a mail client can fold a repeated send into one message.
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{our_id}@{domain}>"


class SmtpChannel:
    provider = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 15.0,
    ):
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self._password = password
        self.starttls = starttls
        self.timeout = timeout

    def compose(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id(message.id, self.sender)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to us
        # base64 needs no 8BITMIME from the server and is the compact choice for Cyrillic.
        mail.set_content(message.body, charset="utf-8", cte="base64")
        return mail

    def send(self, message: Outgoing) -> str:
        mail = self.compose(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self._password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code = min(code for code, _ in exc.recipients.values())
            raise _by_code(code, "recipient refused") from None
        except smtplib.SMTPAuthenticationError as exc:
            # Our credentials, not this message: worth retrying once ops have fixed them.
            raise TransientError(f"SMTP authentication failed ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, _text(exc.smtp_error)) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refusals
            raise TransientError(f"SMTP server unreachable: {type(exc).__name__}") from None
        return mail["Message-ID"]


def _by_code(code: int, text: str) -> TransientError | PermanentError:
    kind = PermanentError if 500 <= code < 600 else TransientError
    return kind(f"SMTP {code}: {text}"[:300])


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

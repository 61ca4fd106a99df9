"""Texts per kind, channel and language; the code masked in what is stored."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edu_common.envelope import Envelope
from sms_notify import store, templates
from sms_notify.events import CODE_PURPOSES
from sms_notify.settings import Settings
from sms_notify.usecases.notifications import code_message

PARAMS = {"code": "123456", "minutes": 10, "valid_until": "05.12.2026 14:30"}
TZ = Settings().tz  # the service's local time (TIMEZONE), Asia/Almaty unless set


@pytest.mark.parametrize("purpose", CODE_PURPOSES)
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_code_purpose_has_both_forms_in_every_language(purpose, language):
    mail = templates.render(purpose, "email", language, PARAMS)
    sms = templates.render(purpose, "sms", language, PARAMS)
    assert mail.language == sms.language == language
    assert mail.subject and "123456" not in mail.subject
    assert "123456" in mail.body and "$" not in mail.body
    assert sms.subject is None
    assert "123456" in sms.body
    # A six-digit code fits one SMS even in Cyrillic (70 characters in UCS-2).
    assert len(sms.body) <= 70


def test_russian_and_kazakh_texts():
    assert (
        templates.render("email_confirmation", "sms", "ru", PARAMS).body
        == "Ваш код подтверждения: 123456. Никому не сообщайте его."
    )
    assert (
        templates.render("email_confirmation", "sms", "kk", PARAMS).body
        == "Растау коды: 123456. Оны ешкімге айтпаңыз."
    )
    mail = templates.render("login", "email", "kk", PARAMS)
    assert mail.subject == "Кіру коды"
    assert mail.body.startswith("Сәлеметсіз бе!")
    assert "10 минут" in mail.body


def test_a_language_without_texts_falls_back_to_english():
    rendered = templates.render("login", "sms", "de", PARAMS)
    assert rendered.language == "en"
    assert rendered.body == "Your sign-in code: 123456. Do not share it with anyone."


def test_a_kind_without_texts_fails_clearly():
    with pytest.raises(templates.TemplateError, match=r"grades_weekly\.ru\.sms\.txt"):
        templates.render("grades_weekly", "sms", "ru", PARAMS)


def test_a_missing_value_fails_clearly():
    with pytest.raises(templates.TemplateError, match=r"\$minutes"):
        templates.render("login", "email", "ru", {"code": "123456"})


@pytest.mark.parametrize("name", ["../settings", "login.ru", "Login", ""])
def test_names_cannot_leave_the_templates_folder(name):
    with pytest.raises(templates.TemplateError):
        templates.render(name, "sms", "ru", PARAMS)


def envelope(data: dict, occurred_at: dt.datetime) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        type="identity.code.requested",
        version=1,
        occurred_at=occurred_at,
        source="identity",
        data=data,
    )


def code_data(**changes) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {
        "challenge_id": "ch-1",
        "purpose": "email_confirmation",
        "channel": "email",
        "to": "parent@example.kz",
        "code": "482913",
        "language": "ru",
        "expires_at": now + dt.timedelta(minutes=10),
        "account_id": None,
        **changes,
    }


def test_the_stored_message_has_the_code_masked_and_kept_apart():
    data = code_data()
    now = data["expires_at"] - dt.timedelta(minutes=10)
    message = code_message(envelope(data, now), data, now, TZ)
    assert "482913" not in message["body"] and "482913" not in message["subject"]
    assert store.CODE_MASK in message["body"]
    assert message["secret"] == {"code": "482913"}
    assert message["subject"] == "Подтверждение адреса электронной почты"
    assert "Код действует 10 мин." in message["body"]
    assert message["status"] == store.QUEUED
    revealed = store.reveal(message["body"], message["secret"])
    assert "Ваш код подтверждения: 482913" in revealed


def test_the_validity_is_counted_from_the_event_not_from_its_arrival():
    data = code_data(channel="sms", to="+77011234567", language="kk")
    occurred = data["expires_at"] - dt.timedelta(minutes=10)
    late = occurred + dt.timedelta(minutes=3)
    message = code_message(envelope(data, occurred), data, late, TZ)
    assert message["body"] == f"Растау коды: {store.CODE_MASK}. Оны ешкімге айтпаңыз."
    assert message["subject"] is None


def test_initial_password_shows_the_date_in_astana_time():
    expires = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)
    data = code_data(purpose="initial_password", code="Xq7-pL2m", expires_at=expires)
    occurred = expires - dt.timedelta(days=14)
    message = code_message(envelope(data, occurred), data, occurred, TZ)
    assert "05.12.2026 14:30" in message["body"]
    assert "Xq7-pL2m" not in message["body"]
    # The zone is the setting's, not fixed in the code.
    in_utc = code_message(envelope(data, occurred), data, occurred, Settings(timezone="UTC").tz)
    assert "05.12.2026 09:30" in in_utc["body"]


def test_a_code_already_expired_on_arrival_is_neither_sent_nor_kept():
    data = code_data()
    occurred = data["expires_at"] - dt.timedelta(minutes=10)
    message = code_message(envelope(data, occurred), data, data["expires_at"], TZ)
    assert message["status"] == store.FAILED
    assert "secret" not in message
    assert "482913" not in str(message)


def test_a_requested_language_without_texts_is_recorded_with_the_fallback():
    data = code_data(language="de")
    now = dt.datetime.now(dt.UTC)
    message = code_message(envelope(data, now), data, now, TZ)
    assert (message["language"], message["requested_language"]) == ("en", "de")

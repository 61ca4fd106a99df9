"""Every applicant event has a route and renders in Kazakh, Russian and English, as SMS and
e-mail, with every placeholder filled from the contract's own fields."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest

from edu_common import consumer
from edu_common.consumer import Binding
from edu_common.contracts import applicant
from edu_common.envelope import Envelope
from sms_notify import events, store, templates
from sms_notify.domain import kinds, segments
from sms_notify.usecases import notifications

AT = dt.datetime(2027, 8, 20, 13, 0, tzinfo=dt.UTC)
OFFER = {
    "offer_id": "offer-1", "college_id": "college-1", "college_name_kk": "Қостанай жоғары колледжі",
    "college_name_ru": "Костанайский высший колледж", "specialty_code": "0101000",
    "specialty_name_kk": "Мектепке дейінгі тәрбие", "specialty_name_ru": "Дошкольное воспитание",
    "language": "kk", "study_form": "full_time",
}  # fmt: skip
SAMPLE = {
    "applicant_account_id": "acc-1", "applicant_iin_masked": "********4107",
    "application_id": "app-1", "campaign_id": "kostanay-2027", "region_id": "kostanay",
    "year": 2027, "base_education": "after_9", "choices": [], "quota_claims": [],
    "certificate_average": 4.6, "submitted_at": AT, "resubmission": False,
    "returned_kinds": ["photo"], "wave": 1, "pool": "general", "cutoff": 4.5, "choice_rank": 1,
    "confirm_by": AT, "appeal_by": AT, "cutoffs": [], "reason": "lapsed", "appeal_id": "ap-1",
    "decision": "granted", "request_id": "req-1", "type": "dormitory", "status": "in_review",
    "previous_status": "submitted", "deadline": AT, "changed_at": AT, **OFFER,
}  # fmt: skip


def payload(event) -> dict:
    return {name: SAMPLE[name] for name in event.schema().fields}


REQUESTS = (applicant.REQUEST_STATUS_CHANGED, applicant.REQUEST_OVERDUE)
# Every template an applicant event may be said with: the route's, and the officers' overdue.
TEMPLATES = [
    *((e, notifications.BY_TYPE[e.routing_key].template) for e in applicant.ALL),
    (applicant.REQUEST_OVERDUE, "ap_request_overdue_officer"),
]


def test_every_applicant_event_is_consumed():
    assert set(map(id, applicant.ALL)) <= set(map(id, events.CONSUMED))


@pytest.mark.parametrize("event", applicant.ALL, ids=lambda e: e.routing_key)
def test_every_applicant_event_is_routed_to_the_applicant(event):
    route = notifications.BY_TYPE[event.routing_key]
    assert route.kind == ("student_request" if event in REQUESTS else "application")
    assert not route.paid and not route.urgent and route.kind in kinds.MUTABLE
    assert event.schema().validate(payload(event)) == {}


def rendered(event, template: str, channel: str, language: str) -> templates.Rendered:
    route = notifications.BY_TYPE[event.routing_key]
    data = payload(event)
    params = notifications.template_values(data, zoneinfo.ZoneInfo("Asia/Almaty"))
    if route.params:
        params.update(route.params(data))
    return templates.render(template, channel, language, params)


@pytest.mark.parametrize(("event", "template"), TEMPLATES, ids=lambda x: getattr(x, "type", x))
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_every_applicant_message_renders_with_nothing_left_to_fill(
    event, template, language, channel
):
    text = rendered(event, template, channel, language)
    assert text.language == language  # no silent fallback to English for kk and ru
    assert "$" not in text.body and "None" not in text.body and text.body
    if channel == "sms":
        counted = segments.count(text.body)
        if language != "en":  # (English too, with the colleges' Cyrillic names)
            assert counted.encoding == segments.UCS2
        assert counted.count <= 3, (template, language, counted.count)
    else:
        assert text.subject and "$" not in text.subject


def test_dates_are_local_and_codes_are_words():
    # 13:00 UTC is 18:00 in Almaty
    allocated = rendered(applicant.ALLOCATED, "ap_allocated", "sms", "ru").body
    assert allocated == (
        "Вам выделено место по госзаказу: Костанайский высший колледж, 0101000 Дошкольное "
        "воспитание. Подтвердите зачисление до 20.08.2027 18:00."
    )
    lapsed = rendered(applicant.DECLINED, "ap_declined", "sms", "kk").body
    assert lapsed == "Қостанай жоғары колледжі орны жойылды: мерзімінде расталмады."
    officer = rendered(applicant.REQUEST_OVERDUE, "ap_request_overdue_officer", "sms", "ru")
    assert officer.body == "Просрочена заявка «общежитие» (********4107), срок 20.08.2027 18:00."


def test_codes_are_said_in_words_of_the_language():
    data = payload(applicant.REQUEST_STATUS_CHANGED)
    words = notifications.BY_TYPE[applicant.REQUEST_STATUS_CHANGED.routing_key].params(data)
    assert (words["type_kk"], words["status_ru"]) == ("жатақхана", "на рассмотрении")


# --- through the handler, on the embedded database ------------------------------------------

NOON = dt.datetime(2027, 8, 20, 6, 0, tzinfo=dt.UTC)  # 11:00 in Almaty
STUDENT, OFFICER, OTHER_COLLEGE, GONE = "acc-student", "acc-officer", "acc-other", "acc-gone"


@pytest.fixture
def run(plain_db, h, make_deps):
    clock = h.Clock(NOON)
    sms, email = h.FakeSms("smsc"), h.FakeSms("smtp")
    deps = make_deps(plain_db, channels={"sms": sms, "email": email}, clock=clock)

    def handle(event, data) -> Envelope:
        route = notifications.BY_TYPE[event.routing_key]
        env = Envelope(str(uuid.uuid4()), event.type, 1, NOON, "applicant", data)
        binding = Binding.on(
            "t", [event], lambda e, ctx: notifications.on_event(deps, route, e, ctx)
        )
        consumer.handle_once(plain_db, "q", binding, env)
        consumer.handle_once(plain_db, "q", binding, env)  # redelivered: nothing more
        return env

    handle.sms, handle.email = sms, email
    return handle


def officer(h, db, account_id, phone, college="college-1", **extra):
    h.add_account(
        db, account_id, roles=["college_officer"], organization_id=college, phone=phone,
        email=f"{account_id}@example.kz", language="ru", **extra,
    )  # fmt: skip


def test_a_submission_reaches_the_applicant_in_their_language_once(plain_db, h, run):
    h.add_account(plain_db, STUDENT, phone="+77015550101", language="kk")
    env = run(
        applicant.SUBMITTED, {**payload(applicant.SUBMITTED), "applicant_account_id": STUDENT}
    )
    [sms] = run.sms.sent
    assert (sms.to, sms.body) == (
        "+77015550101",
        "Колледжге өтінішіңіз қаралуда. Мәртебесі — жеке кабинетте.",
    )
    [doc] = plain_db[store.MESSAGES].find({"event_id": env.id})
    assert (doc["kind"], doc["status"], doc["account_id"]) == ("application", "sent", STUDENT)


def test_an_overdue_request_reaches_the_student_and_that_colleges_officers(plain_db, h, run):
    h.add_account(plain_db, STUDENT, phone="+77015550101", language="ru")
    officer(h, plain_db, OFFICER, "+77015550102")
    officer(h, plain_db, OTHER_COLLEGE, "+77015550103", college="college-2")
    officer(h, plain_db, GONE, "+77015550104", active=False)
    data = {**payload(applicant.REQUEST_OVERDUE), "applicant_account_id": STUDENT}
    env = run(applicant.REQUEST_OVERDUE, data)
    assert sorted((m.to, m.body) for m in run.sms.sent) == [
        (
            "+77015550101",
            "Срок заявки «общежитие» в Костанайский высший колледж истёк (20.08.2027 18:00).",
        ),
        ("+77015550102", "Просрочена заявка «общежитие» (********4107), срок 20.08.2027 18:00."),
    ]
    docs = list(plain_db[store.MESSAGES].find({"event_id": env.id}))
    assert sorted(d["account_id"] for d in docs) == [OFFICER, STUDENT]
    assert {d["kind"] for d in docs} == {"student_request"}


def test_a_muted_kind_is_suppressed_and_the_other_still_sent(plain_db, h, run):
    h.add_account(plain_db, STUDENT, phone="+77015550101", language="ru")
    plain_db[store.PREFERENCES].insert_one({"_id": STUDENT, "kinds": {"student_request": False}})
    base = {"applicant_account_id": STUDENT}
    run(applicant.REQUEST_STATUS_CHANGED, {**payload(applicant.REQUEST_STATUS_CHANGED), **base})
    run(applicant.ACCEPTED, {**payload(applicant.ACCEPTED), **base})
    assert [m.body for m in run.sms.sent] == [
        "Костанайский высший колледж принял документы, заявление участвует в конкурсе."
    ]
    muted = plain_db[store.MESSAGES].find_one({"kind": "student_request"})
    assert muted["status"] == store.SUPPRESSED

"""Every applicant event has a route and renders in Kazakh, Russian and English, as SMS and
e-mail, with every placeholder filled from the contract's own fields."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from edu_common.contracts import applicant
from sms_notify import templates
from sms_notify.domain import segments
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


@pytest.mark.parametrize("event", applicant.ALL, ids=lambda e: e.routing_key)
def test_every_applicant_event_is_routed_to_the_applicant(event):
    route = notifications.BY_TYPE[event.routing_key]
    assert route.kind == "application" and not route.paid and not route.urgent
    assert event.schema().validate(payload(event)) == {}


@pytest.mark.parametrize("event", applicant.ALL, ids=lambda e: e.routing_key)
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_every_applicant_message_renders_with_nothing_left_to_fill(event, language, channel):
    route = notifications.BY_TYPE[event.routing_key]
    data = payload(event)
    params = notifications.template_values(data, zoneinfo.ZoneInfo("Asia/Almaty"))
    if route.params:
        params.update(route.params(data))
    rendered = templates.render(route.template, channel, language, params)
    assert rendered.language == language
    assert "$" not in rendered.body and rendered.body
    if channel == "sms":
        assert segments.count(rendered.body).count <= 3
    else:
        assert rendered.subject


def test_codes_are_said_in_words_of_the_language():
    data = payload(applicant.REQUEST_STATUS_CHANGED)
    words = notifications.BY_TYPE[applicant.REQUEST_STATUS_CHANGED.routing_key].params(data)
    assert (words["type_kk"], words["status_ru"]) == ("жатақхана", "на рассмотрении")

"""Every kind of event message has Kazakh and Russian texts that render with sample data."""

from __future__ import annotations

import datetime as dt

import pytest

from sms_notify import templates
from sms_notify.domain.segments import count
from sms_notify.settings import Settings
from sms_notify.usecases import notifications

AT = dt.datetime(2026, 3, 5, 4, 0, tzinfo=dt.UTC)
SAMPLE = {
    "account_id": "acc-1",
    "reason": "enrolled",
    "sessions_ended": 2,
    "locked_until": AT,
    "application_id": "app-1",
    "parent_account_id": "acc-1",
    "child_iin_masked": "********2034",
    "child_first_name": "Әлихан",
    "district_id": "d-1",
    "category": "priority",
    "queue_number": 12,
    "previous_queue_number": 40,
    "decision": "confirmed",
    "referral_id": "ref-1",
    "kindergarten_name": "Балапан",
    "confirm_by": AT,
    "stage": "confirm",
    "deadline": AT,
    "enrol_by": AT,
    "stop_list_until": AT,
    "escort_full_name": "Дана Омарова",
    "escort_phone": "+77010000009",
    "escort_iin_masked": "********1111",
    "direction": "in",
    "at": AT,
    # applicant's (its own test, test_notify_applicant_routes.py, renders each with its fields)
    "applicant_iin_masked": "********4107",
    "college_name_kk": "Қостанай жоғары колледжі",
    "college_name_ru": "Костанайский высший колледж",
    "specialty_code": "0101000",
    "specialty_name_kk": "Мектепке дейінгі тәрбие",
    "specialty_name_ru": "Дошкольное воспитание",
    "wave": 1,
    "certificate_average": 4.6,
    "appeal_by": AT,
    "type": "dormitory",
    "status": "in_review",
}


def params_for(route: notifications.Route) -> dict:
    params = notifications.template_values(SAMPLE, Settings().tz)
    if route.params:
        params.update(route.params(SAMPLE))
    return params


@pytest.mark.parametrize("route", notifications.ROUTES, ids=lambda r: r.template)
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_route_renders_in_each_language_on_both_channels(route, language):
    params = params_for(route)
    sms = templates.render(route.template, "sms", language, params)
    mail = templates.render(route.template, "email", language, params)
    assert sms.language == mail.language == language  # no silent fallback for kk and ru
    assert "$" not in sms.body and "$" not in mail.body and mail.subject
    assert "None" not in sms.body
    assert count(sms.body).count <= 3, "an event SMS should stay short"


def test_dates_are_shown_in_almaty_time_and_codes_in_the_right_language():
    route = notifications.BY_TYPE["kindergarten.referral.offered.v1"]
    sms = templates.render(route.template, "sms", "ru", params_for(route))
    assert "05.03.2026 09:00" in sms.body and "«Балапан»" in sms.body
    closed = notifications.BY_TYPE["kindergarten.application.closed.v1"]
    kk = templates.render(closed.template, "sms", "kk", params_for(closed))
    assert "бала балабақшаға қабылданды" in kk.body


def test_a_template_missing_a_language_falls_back_to_english_and_a_missing_kind_fails(tmp_path):
    text = templates.render("kg_registered", "sms", "de", params_for(notifications.ROUTES[2]))
    assert text.language == "en"
    with pytest.raises(templates.TemplateError, match="no template"):
        templates.render("no_such_kind", "sms", "ru", {})
    with pytest.raises(templates.TemplateError, match="needs a value"):
        templates.render("kg_registered", "sms", "ru", {})

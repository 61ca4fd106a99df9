"""The admission path through the HTTP API on the embedded database: apply with ranked choices,
upload documents, the officer reviews, a wave allocates, the applicant confirms; a second wave
re-allocates freed seats; an appeal re-scores."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from applicant import store
from applicant.usecases import allocation, enrolment
from edu_common import accounts

from .conftest import AFTER_CLOSE, CAMPAIGN, COLLEGES, PDF

pytestmark = pytest.mark.integration


@pytest.fixture
def w(world):
    world.campaign()
    world.offer("law", COLLEGES[0], "0201000", seats=1)
    world.offer("teach", COLLEGES[1], "0101000", seats=2)
    world.offer("it", COLLEGES[2], "1304000", seats=1)
    return world


def test_apply_upload_submit_review_allocate_confirm(w):
    who = w.applicant()
    app = w.apply(who, ["law", "teach"], 4.3)
    assert app["status"] == "draft" and app["applicant_iin_masked"].endswith(who.iin[-4:])
    assert [c["rank"] for c in app["choices"]] == [1, 2]

    missing = w.submit(who, app["id"], expect=422)
    assert missing["code"] == "document_missing"
    assert missing["invalid_params"][0]["name"] == "documents.education_document"

    w.upload_all(who, app["id"])
    submitted = w.submit(who, app["id"])
    assert submitted["status"] == "submitted"
    [event] = w.events("applicant.application.submitted.v1")
    assert event["applicant_account_id"] == who.account
    assert event["applicant_iin_masked"] == "********" + who.iin[-4:]
    assert who.iin not in str(event)

    # Only the first-choice college reviews; the second choice's officer may read it.
    w.review(app["id"], org=COLLEGES[1], expect=403)
    seen = w.client.get(f"/applications/{app['id']}", headers=w.officer(COLLEGES[1]))
    assert seen.status_code == 200
    assert (
        w.client.get(f"/applications/{app['id']}", headers=w.officer(COLLEGES[2])).status_code
        == 404
    )
    assert w.review(app["id"])["status"] == "accepted"

    rival = w.accepted(["law"], 4.6)
    run = w.close_and_allocate()
    assert run["counts"]["allocated"] == 2

    mine = w.get(who, app["id"])
    assert mine["status"] == "allocated"
    assert mine["allocated_offer_id"] == w.offers["teach"]
    assert mine["allocation"]["offer_id"] == w.offers["teach"]
    assert mine["allocation"]["pool"] == "general"
    first = mine["results"]["choices"][0]
    assert first["outcome"] == "below_cutoff" and first["note"] == "cutoff 4.60, your average 4.30"
    assert w.get(rival, rival.app)["allocation"]["cutoff"] == 4.6

    allocation.announce(w.deps)
    allocated = w.events("applicant.application.allocated.v1")
    assert {e["application_id"] for e in allocated} == {app["id"], rival.app}
    assert allocation.announce(w.deps) == 0  # once

    confirmed = w.client.post(
        f"/applications/{app['id']}/enrolment", json={"decision": "confirm"}, headers=who.h
    )
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "enrolled"
    [enrolled] = w.events("applicant.application.enrolled.v1")
    assert enrolled["offer_id"] == w.offers["teach"] and enrolled["college_name_ru"]
    studies = w.client.get("/students/me", headers=who.h).json
    assert studies[0]["college_id"] == COLLEGES[1] and studies[0]["study_form"] == "full_time"
    assert "dormitory" in studies[0]["services"]

    ranking = w.client.get(f"/offers/{w.offers['law']}/ranking").json
    assert [r["outcome"] for r in ranking["items"]] == ["admitted", "elsewhere"]
    assert all(r["applicant_iin_masked"].startswith("********") for r in ranking["items"])


def test_choice_rules_name_the_field(w, clock):
    who = w.applicant()
    w.offer("creative", COLLEGES[3], "0402000", seats=1)
    w.offer("other_track", COLLEGES[0], "0201000", seats=1, base="after_11")
    w.offer("c5", COLLEGES[3], "0711000", seats=1)

    def refused(offers, code, field, **kw):
        body = w.apply(who, offers, expect=422, **kw)
        assert body["code"] == code, body
        assert body["invalid_params"][0]["name"] == field, body

    five = ["law", "teach", "it", "creative", "c5"]
    refused(five, "too_many_choices", "choices[4]")
    refused(["law", "law"], "choice_duplicate", "choices[1].offer_id")
    refused(["law", "other_track"], "offer_other_track", "choices[1].offer_id")
    refused(["law", "nope"], "offer_not_in_campaign", "choices[1].offer_id")
    w.campaign("akmola-2026", "akmola")
    elsewhere = w.offer("akm", COLLEGES[4], "0711000", campaign="akmola-2026")
    refused(["law", elsewhere], "offer_not_in_campaign", "choices[1].offer_id")
    bad = w.client.post(
        "/applications",
        json={
            "campaign_id": CAMPAIGN,
            "base_education": "after_9",
            "certificate_average": 4.333,
            "choices": [{"offer_id": "x"}],
        },
        headers=who.h,
    )
    assert bad.status_code == 422 and bad.json["invalid_params"][0]["name"] == "certificate_average"

    clock.now = dt.datetime(2026, 7, 21, 5, 0, tzinfo=dt.UTC)  # after the creative deadline
    refused(["law", "creative"], "creative_closed", "choices[1].offer_id")
    clock.now = AFTER_CLOSE
    refused(["law"], "campaign_closed", "base_education")


def test_one_application_per_person_and_no_parent_applies_for_a_child(w):
    who = w.applicant()
    w.apply(who, ["law"])
    assert w.apply(who, ["teach"], expect=409)["code"] == "application_exists"
    # The applicant's IIN is the cabinet's own: a body naming another person is refused.
    sneaky = w.apply(who, ["law"], expect=422, applicant_iin="100315544107")
    assert sneaky["invalid_params"][0]["name"] == "applicant_iin"


def test_under_16_needs_the_parents_consent_from_the_parents_cabinet(w):
    young = w.applicant(birth=dt.date(2011, 9, 1), with_parent=True)
    app = w.apply(young, ["law"])
    assert app["consent_required"] is True
    w.upload_all(young, app["id"])
    refused = w.submit(young, app["id"], expect=422)
    assert refused["code"] == "representative_consent_required"
    stranger = w.applicant(birth=dt.date(1985, 1, 1))
    no = w.client.post(f"/applications/{app['id']}/consent", headers=stranger.h)
    assert no.status_code == 404
    yes = w.client.post(f"/applications/{app['id']}/consent", headers=young.parent.h)
    assert yes.status_code == 201, yes.json
    assert w.submit(young, app["id"])["status"] == "submitted"


def test_documents_returned_with_reasons_then_resubmitted(w):
    who = w.applicant()
    app = w.apply(who, ["law"], claims=["orphan"])
    w.upload_all(who, app["id"], claims=["orphan"])
    w.submit(who, app["id"])
    docs = w.get(who, app["id"])["documents"]
    photo = next(d for d in docs if d["kind"] == "photo")
    assert w.review(app["id"], "returned", expect=422)["code"] == "reasons_required"
    back = w.review(app["id"], "returned", {photo["id"]: "Нужно фото 3x4"})
    assert back["status"] == "documents_returned"
    returned = next(d for d in back["documents"] if d["kind"] == "photo")
    assert returned["status"] == "returned" and returned["reason"] == "Нужно фото 3x4"
    [event] = w.events("applicant.application.documents_returned.v1")
    assert event["returned_kinds"] == ["photo"] and "reason" not in str(event)
    assert w.submit(who, app["id"], expect=422)["invalid_params"][0]["name"] == "documents.photo"
    w.upload(who, app["id"], "photo", PDF)
    again = w.submit(who, app["id"])
    assert again["status"] == "submitted"
    assert w.events("applicant.application.submitted.v1")[-1]["resubmission"] is True


def test_uploads_are_checked_by_content_and_size(w, settings):
    who = w.applicant()
    app = w.apply(who, ["law"])
    fake = w.upload(who, app["id"], "photo", b"GIF89a" + b"0" * 50, expect=415)
    assert fake["code"] == "file_type_not_allowed" and fake["invalid_params"][0]["name"] == "file"
    liar = w.client.post(
        f"/applications/{app['id']}/documents",
        data={"kind": "photo", "file": (io.BytesIO(PDF), "x.png", "image/png")},
        headers=who.h,
        content_type="multipart/form-data",
    )
    assert liar.status_code == 415 and liar.json["code"] == "file_type_mismatch"
    big = b"%PDF-" + b"0" * (settings.document_max_bytes + 1)
    assert (
        w.upload(who, app["id"], "education_document", big, expect=413)["code"] == "file_too_large"
    )
    assert w.upload(who, app["id"], "quota_proof", quota="orphan", expect=422)["code"] == (
        "quota_not_claimed"
    )
    doc = w.upload(who, app["id"], "education_document")
    url = f"/applications/{app['id']}/documents/{doc['id']}"
    assert w.client.get(url, headers=who.h).data == PDF
    # Officers of the chosen colleges may download once it is submitted, nobody else ever.
    assert w.client.get(url, headers=w.officer(COLLEGES[0])).status_code == 404
    w.upload(who, app["id"], "photo")
    w.upload(who, app["id"], "medical_075u")
    w.submit(who, app["id"])
    assert w.client.get(url, headers=w.officer(COLLEGES[0])).data == PDF
    assert w.client.get(url, headers=w.officer(COLLEGES[1])).status_code == 404
    assert w.client.get(url, headers=w.applicant().h).status_code == 404
    assert w.client.get(url, headers=w.admin()).status_code == 404


def test_quota_seats_go_to_claimants_first_and_return_when_empty(w):
    w.offer("big", COLLEGES[3], "0711000", seats=10, rural=True)
    offer = w.client.get(f"/offers/{w.offers['big']}").json
    # 10 seats: rural 30% = 3, resettlement region 10% = 1, kandas 4% = 0 (half up), the rest 0.
    assert offer["quota_seats"] == {"rural": 3, "rural_resettlement": 1}
    assert offer["general_seats"] == 6
    general = [w.accepted(["big"], 4.0 + i / 100) for i in range(8)]
    rural = [w.accepted(["big"], 3.1 + i / 100, claims=["rural"]) for i in range(2)]
    w.close_and_allocate()
    assert all(w.get(r, r.app)["allocation"]["pool"] == "rural" for r in rural)
    got = [w.get(g, g.app)["status"] for g in general]
    # 6 general seats + 1 rural + 1 resettlement seat nobody claimed: 8 general applicants fit.
    assert got == ["allocated"] * 8
    view = w.client.get(f"/offers/{w.offers['big']}").json["results"]["pools"]
    assert view["rural"] == {"seats": 3, "filled": 2, "cutoff": None}


def test_allocation_only_after_close_and_a_second_wave_never_moves_the_confirmed(w, clock):
    resp = w.client.post(
        f"/campaigns/{CAMPAIGN}/allocations", json={"base_education": "after_9"}, headers=w.admin()
    )
    assert resp.status_code == 409 and resp.json["code"] == "track_open"
    officer = w.officer(COLLEGES[0])
    assert (
        w.client.post(
            f"/campaigns/{CAMPAIGN}/allocations",
            json={"base_education": "after_9"},
            headers=officer,
        ).status_code
        == 403
    )
    top = w.accepted(["law", "teach"], 4.9)
    second = w.accepted(["law", "teach"], 4.8)
    third = w.accepted(["law", "teach"], 4.7)
    fourth = w.accepted(["law", "teach", "it"], 4.6)
    fifth = w.accepted(["law"], 4.5)
    w.close_and_allocate()
    assert w.get(top, top.app)["allocated_offer_id"] == w.offers["law"]
    assert w.get(second, second.app)["allocated_offer_id"] == w.offers["teach"]
    assert w.get(fourth, fourth.app)["allocated_offer_id"] == w.offers["it"]
    assert w.get(fifth, fifth.app)["status"] == "not_allocated"
    w.client.post(
        f"/applications/{second.app}/enrolment", json={"decision": "confirm"}, headers=second.h
    )
    declined = w.client.post(
        f"/applications/{top.app}/enrolment", json={"decision": "decline"}, headers=top.h
    )
    assert declined.json["status"] == "declined"
    # third holds teach unconfirmed; its deadline passes and the seat lapses.
    clock.now = dt.datetime(2026, 9, 1, 5, 0, tzinfo=dt.UTC)
    assert enrolment.sweep_lapses(w.deps) == 2  # third and fourth never confirmed
    assert w.get(third, third.app)["declined_reason"] == "lapsed"
    lapsed = w.events("applicant.application.declined.v1")
    assert {e["reason"] for e in lapsed} == {"declined", "lapsed"}
    resp = w.client.post(
        f"/campaigns/{CAMPAIGN}/allocations", json={"base_education": "after_9"}, headers=w.admin()
    )
    assert resp.json["wave"] == 2
    allocation.run_pending(w.deps)
    assert w.get(second, second.app)["status"] == "enrolled"
    assert w.get(fifth, fifth.app)["allocated_offer_id"] == w.offers["law"]
    assert w.get(fifth, fifth.app)["allocation"]["wave"] == 2


def test_wave_two_keeps_or_betters_an_unconfirmed_seat(w):
    a = w.accepted(["law", "teach"], 4.9)
    b = w.accepted(["law", "teach"], 4.8)
    w.close_and_allocate()
    assert w.get(b, b.app)["allocated_offer_id"] == w.offers["teach"]
    w.client.post(f"/applications/{a.app}/enrolment", json={"decision": "decline"}, headers=a.h)
    w.client.post(
        f"/campaigns/{CAMPAIGN}/allocations", json={"base_education": "after_9"}, headers=w.admin()
    )
    allocation.run_pending(w.deps)
    moved = w.get(b, b.app)
    assert moved["allocated_offer_id"] == w.offers["law"] and moved["allocation"]["wave"] == 2
    allocation.announce(w.deps)
    waves = [
        e["wave"]
        for e in w.events("applicant.application.allocated.v1")
        if e["application_id"] == b.app
    ]
    assert waves == [1, 2]


def test_appeal_within_a_working_day_rescores_before_the_next_wave(w, clock):
    a = w.accepted(["law"], 4.5)
    b = w.accepted(["law"], 4.4)
    w.close_and_allocate()
    filed = w.client.post(
        f"/applications/{b.app}/appeals", json={"reason": "Average is 4.9"}, headers=b.h
    )
    assert filed.status_code == 201, filed.json
    again = w.client.post(f"/applications/{b.app}/appeals", json={"reason": "again"}, headers=b.h)
    assert again.status_code == 409
    officer = w.officer(COLLEGES[0])
    listed = w.client.get("/appeals", headers=officer).json["items"]
    assert [x["id"] for x in listed] == [filed.json["id"]]
    decided = w.client.post(
        f"/appeals/{filed.json['id']}/decision",
        json={"decision": "granted", "reason": "Проверено", "certificate_average": 4.9},
        headers=officer,
    )
    assert decided.status_code == 200 and decided.json["new_average"] == 4.9
    assert w.events("applicant.application.appeal_decided.v1")[0]["certificate_average"] == 4.9
    clock.advance(days=5)
    late = w.client.post(f"/applications/{a.app}/appeals", json={"reason": "late one"}, headers=a.h)
    assert late.status_code == 409 and late.json["code"] == "appeal_period_over"
    w.client.post(f"/applications/{a.app}/enrolment", json={"decision": "decline"}, headers=a.h)
    w.client.post(
        f"/campaigns/{CAMPAIGN}/allocations", json={"base_education": "after_9"}, headers=w.admin()
    )
    allocation.run_pending(w.deps)
    assert w.get(b, b.app)["allocation"]["cutoff"] == 4.9


def test_withdraw_and_change_choices_until_close(w, clock):
    who = w.accepted(["law", "teach"], 4.5)
    moved = w.client.patch(
        f"/applications/{who.app}",
        json={"choices": [{"offer_id": w.offers["teach"]}, {"offer_id": w.offers["law"]}]},
        headers=who.h,
    )
    assert moved.status_code == 200 and moved.json["status"] == "submitted"  # new first college
    assert moved.json["choices"][0]["offer_id"] == w.offers["teach"]
    no = w.client.patch(
        f"/applications/{who.app}", json={"certificate_average": 5.0}, headers=who.h
    )
    assert no.status_code == 409
    gone = w.client.post(f"/applications/{who.app}/withdraw", headers=who.h)
    assert gone.json["status"] == "withdrawn"
    assert w.events("applicant.application.withdrawn.v1")
    again = w.apply(who, ["it"])  # a withdrawn application does not block a new one
    clock.now = AFTER_CLOSE
    assert w.client.post(f"/applications/{again['id']}/withdraw", headers=who.h).status_code == 409


def test_who_may_do_what(w):
    assert w.client.post("/applications", json={}).status_code == 401
    officer = w.officer()
    assert w.client.post("/applications", json={}, headers=officer).status_code == 403
    assert w.client.get("/regions").status_code == 200
    assert w.client.get("/colleges?region_id=kostanay&q=колледж").json["items"]
    assert w.client.get("/colleges/col-1").json["specialties"][0]["code"] == "0101000"
    body = {
        "college_id": COLLEGES[4],
        "specialty_code": "0711000",
        "language": "ru",
        "study_form": "full_time",
        "base_education": "after_9",
        "state_order_seats": 5,
    }
    other = w.client.post(f"/campaigns/{CAMPAIGN}/offers", json=body, headers=officer)
    assert other.status_code == 422 and other.json["code"] == "college_other_region"
    body["college_id"] = COLLEGES[1]
    assert (
        w.client.post(f"/campaigns/{CAMPAIGN}/offers", json=body, headers=officer).status_code
        == 403
    )
    body["college_id"] = COLLEGES[0]
    assert (
        w.client.post(f"/campaigns/{CAMPAIGN}/offers", json=body, headers=officer).status_code
        == 201
    )
    region_officer = w.officer("kostanay")
    early = w.client.patch(
        f"/campaigns/{CAMPAIGN}",
        json={"tracks": {"after_9": {"closes": "2026-06-30"}}},
        headers=region_officer,
    )
    assert early.status_code == 200 and early.json["open"]["after_9"] is False
    assert (
        w.client.patch(
            f"/campaigns/{CAMPAIGN}",
            json={"tracks": {"after_9": {"closes": "2026-06-01"}}},
            headers=region_officer,
        ).json["invalid_params"][0]["name"]
        == "tracks.after_9.closes"
    )
    assert (
        w.client.patch(
            f"/campaigns/{CAMPAIGN}", json={"tracks": {}}, headers=w.officer("akmola")
        ).status_code
        == 403
    )
    who = w.applicant()
    app = w.apply(who, ["law"], base="after_11", expect=422)
    assert app["code"] == "offer_other_track"
    assert w.db[store.CAMPAIGNS].count_documents({}) == 1


def _walk(w, path, headers=None, limit=1):
    seen, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = w.client.get(url, headers=headers)
        assert r.status_code == 200, r.json
        seen += [i["id"] for i in r.json["items"]]
        if not (cursor := r.json["next_cursor"]):
            return seen


def test_lists_page_by_keyset_and_a_foreign_cursor_is_400(w):
    offers = w.client.get(f"/offers?campaign_id={CAMPAIGN}&limit=200").json["items"]
    keys = [(o["college_id"], o["specialty_code"], o["id"]) for o in offers]
    assert keys == sorted(keys) and len(keys) == 3
    assert _walk(w, f"/offers?campaign_id={CAMPAIGN}") == [o["id"] for o in offers]
    colleges = [c["id"] for c in w.client.get("/colleges?limit=200").json["items"]]
    assert _walk(w, "/colleges", limit=2) == colleges
    for bad in ("garbage", "MTA", "W251bGxd"):  # "MTA" was the old offset cursor for 10
        r = w.client.get(f"/colleges?cursor={bad}")
        assert r.status_code == 400 and r.json["code"] == "invalid_cursor"


def _unverify(w, who) -> None:
    w.db[accounts.ACCOUNTS].update_one({"_id": who.account}, {"$set": {"verified": False}})


def test_an_unverified_cabinet_cannot_apply_submit_or_consent(w):
    young = w.applicant(birth=dt.date(2011, 9, 1), with_parent=True)
    app = w.apply(young, ["law"])
    w.upload_all(young, app["id"])
    _unverify(w, young.parent)
    refused = w.client.post(f"/applications/{app['id']}/consent", headers=young.parent.h)
    assert refused.status_code == 403 and refused.json["code"] == "account_not_verified"
    w.db[accounts.ACCOUNTS].update_one({"_id": young.parent.account}, {"$unset": {"verified": ""}})
    yes = w.client.post(f"/applications/{app['id']}/consent", headers=young.parent.h)
    assert yes.status_code == 201, yes.json  # a copy without the field is a proven one
    _unverify(w, young)
    refused = w.submit(young, app["id"], expect=403)
    assert refused["code"] == "account_not_verified"
    other = w.applicant(birth=dt.date(2008, 2, 2))
    _unverify(w, other)
    refused = w.apply(other, ["teach"], expect=403)
    assert refused["code"] == "account_not_verified"

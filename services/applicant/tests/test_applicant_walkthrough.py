"""The README's walk-through, in process, on the development catalogue: a campaign open today
with last year's places copied, four choices, documents, acceptance, an early close, a wave,
enrolment, a dormitory request."""

from __future__ import annotations

import datetime as dt

import pytest

from applicant.usecases import allocation
from dev import colleges

from .conftest import JPEG, PDF

pytestmark = pytest.mark.integration
TODAY = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)  # Tuesday, noon in Almaty


def test_the_school_leavers_walk_through(world, clock):
    world.db["regions"].delete_many({})
    world.db["colleges"].delete_many({})
    colleges.load(world.db)
    clock.now = TODAY
    admin = world.admin()
    opens, closes = "2026-11-24", "2026-12-31"
    made = world.client.post(
        "/campaigns",
        json={"id": "kostanay-2027", "year": 2027, "region_id": "kostanay",
              "copy_offers_from": "kostanay-2026",
              "tracks": {"after_9": {"opens": opens, "closes": closes},
                         "after_11": {"opens": opens, "closes": closes},
                         "creative_closes": closes}},
        headers=admin,
    )  # fmt: skip
    assert made.status_code == 201, made.json
    assert made.json["open"]["after_9"] and made.json["offers"] == 100
    offers = world.client.get(
        "/offers?campaign_id=kostanay-2027&base_education=after_9&limit=200"
    ).json["items"]
    picked = [o["id"] for o in offers if not o["creative"]][:4]
    assert len({o["college_id"] for o in offers if o["id"] in picked}) <= 4

    timur = world.applicant(birth=dt.date(2010, 3, 15))
    app = world.client.post(
        "/applications",
        json={"campaign_id": "kostanay-2027", "base_education": "after_9",
              "certificate_average": 4.6, "choices": [{"offer_id": o} for o in picked]},
        headers=timur.h,
    )  # fmt: skip
    assert app.status_code == 201, app.json
    app_id = app.json["id"]
    world.upload(timur, app_id, "education_document", PDF)
    world.upload(timur, app_id, "photo", JPEG, name="me.jpg")
    world.upload(timur, app_id, "medical_075u", PDF)
    assert world.submit(timur, app_id)["status"] == "submitted"
    accepted = world.client.post(f"/applications/{app_id}/review", json={"decision": "accepted"},
                                 headers=admin)  # fmt: skip
    assert accepted.json["status"] == "accepted"

    clock.advance(minutes=5)
    early = world.client.patch("/campaigns/kostanay-2027",
                               json={"tracks": {"after_9": {"closes": "2026-11-30"}}},
                               headers=admin)  # fmt: skip
    assert early.json["open"]["after_9"] is False
    run = world.client.post("/campaigns/kostanay-2027/allocations",
                            json={"base_education": "after_9"}, headers=admin)  # fmt: skip
    assert run.status_code == 202 and run.json["status"] == "queued"
    allocation.run_pending(world.deps)
    done = world.client.get(f"/campaigns/kostanay-2027/allocations/{run.json['id']}",
                            headers=admin)  # fmt: skip
    assert done.json["status"] == "done"
    mine = world.get(timur, app_id)
    assert mine["status"] == "allocated" and mine["allocated_offer_id"] == picked[0]
    ranking = world.client.get(f"/offers/{picked[0]}/ranking").json
    assert ranking["items"][0]["outcome"] == "admitted"

    confirmed = world.client.post(f"/applications/{app_id}/enrolment",
                                  json={"decision": "confirm"}, headers=timur.h)  # fmt: skip
    assert confirmed.json["status"] == "enrolled"
    [student] = world.client.get("/students/me", headers=timur.h).json
    req = world.client.post("/requests", json={"type": "dormitory",
                            "fields": {"reason": "Живу в Рудном"}}, headers=timur.h)  # fmt: skip
    assert req.status_code == 201, req.json
    # Five working days from Tuesday 1 December: 16 December is Independence Day, not in range.
    assert req.json["deadline"].startswith("2026-12-08")
    officer = world.officer(student["college_id"])
    moved = world.client.post(f"/requests/{req.json['id']}/status", json={"status": "in_review"},
                              headers=officer)  # fmt: skip
    assert moved.json["status"] == "in_review"
    refused = world.client.post(f"/requests/{req.json['id']}/status", json={"status": "refused"},
                                headers=officer)  # fmt: skip
    assert refused.status_code == 422 and refused.json["invalid_params"][0]["name"] == "reason"
    [changed, *_] = world.events("applicant.request.status_changed.v1")
    assert changed["status"] == "submitted" and changed["college_name_ru"]

"""applicant under test: the real app on the embedded MongoDB-compatible server, a small
population registry in memory, a clock the test moves, tokens from a throw-away key."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from types import SimpleNamespace

import pytest

from applicant import app as applicant_app
from applicant import store
from applicant.settings import Settings
from applicant.usecases import allocation
from edu_common import accounts, outbox
from edu_common.testing import Clock, TokenMinter
from edu_common.testing import Registry as MadeUpRegistry

# Wednesday 1 July 2026, 10:00 in Almaty (UTC+5): both tracks of the 2026 campaign are open,
# creative specialties too (until 20 July).
NOW = dt.datetime(2026, 7, 1, 5, 0, tzinfo=dt.UTC)
AFTER_CLOSE = dt.datetime(2026, 8, 21, 5, 0, tzinfo=dt.UTC)  # Friday 21 August, 10:00
REGION = "kostanay"
OTHER_REGION = "akmola"
COLLEGES = ("col-1", "col-2", "col-3", "col-4", "col-5")
CAMPAIGN = "kostanay-2026"
OTHER_CAMPAIGN = "akmola-2026"

PDF = b"%PDF-1.7\n" + b"0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 200


def made_up_people() -> MadeUpRegistry:
    """The registry's protocol over made-up school leavers of Kostanay and their parents."""
    return MadeUpRegistry(sex="male", name="Арман", surname="Тестов", address="Костанай")


SPECIALTIES = [
    ("0101000", "Мектепке дейінгі тәрбие және оқыту", "Дошкольное воспитание и обучение", False),
    ("0201000", "Құқықтану", "Правоведение", False),
    ("0402000", "Дизайн", "Дизайн", True),
    ("0711000", "Механика", "Механика", False),
    ("1304000", "Есептеу техникасы", "Вычислительная техника", False),
]


def seed(db) -> None:
    db[store.REGIONS].insert_many(
        [
            {
                "_id": REGION,
                "name_kk": "Қостанай облысы",
                "name_ru": "Костанайская область",
                "resettlement": True,
            },
            {
                "_id": OTHER_REGION,
                "name_kk": "Ақмола облысы",
                "name_ru": "Акмолинская область",
                "resettlement": False,
            },
        ]
    )
    for n, college_id in enumerate(COLLEGES):
        db[store.COLLEGES].insert_one(
            {
                "_id": college_id,
                "region_id": OTHER_REGION if college_id == "col-5" else REGION,
                "name_kk": f"Колледж {n + 1}",
                "name_ru": f"Колледж {n + 1}",
                "address": "Костанай",
                "languages": ["kk", "ru"],
                "specialties": [
                    {
                        "code": code,
                        "name_kk": kk,
                        "name_ru": ru,
                        "qualifications": [{"code": f"{code[:4]}01", "name_kk": kk, "name_ru": ru}],
                        "languages": ["kk", "ru"],
                        "study_forms": ["full_time", "part_time"],
                        "bases": [
                            {"base_education": "after_9", "duration_months": 46},
                            {"base_education": "after_11", "duration_months": 34},
                        ],
                        "creative": creative,
                    }
                    for code, kk, ru, creative in SPECIALTIES
                ],
            }
        )


class World:
    def __init__(self, client, deps, minter, registry, clock):
        self.client = client
        self.deps = deps
        self.db = deps.db
        self.minter = minter
        self.registry = registry
        self.clock = clock
        self.offers: dict[str, str] = {}

    # people
    def account(self, roles=("citizen",), org=None, iin=None, birth=None) -> str:
        account_id = f"acc-{uuid.uuid4().hex[:10]}"
        self.db[accounts.ACCOUNTS].insert_one(
            {
                "_id": account_id,
                "revision": 1,
                "iin": iin,
                "full_name": "Тест Тестов",
                "birth_date": birth.isoformat() if birth else None,
                "roles": list(roles),
                "organization_id": org,
                "phone": "+77010000099",
                "email": None,
                "language": "kk",
                "active": True,
            }
        )
        return account_id

    def headers(self, account_id, roles=("citizen",), org=None, key=None) -> dict:
        h = self.minter.headers(account_id, roles=roles, organization_id=org)
        if key:
            h["Idempotency-Key"] = key
        return h

    def applicant(self, birth=dt.date(2010, 3, 15), with_parent=False) -> SimpleNamespace:
        parent = self.registry.add(dt.date(1980, 1, 1)) if with_parent else None
        person = self.registry.add(birth, parents=[parent.iin] if parent else [])
        account = self.account(iin=person.iin, birth=birth)
        out = SimpleNamespace(iin=person.iin, account=account, h=self.headers(account))
        if parent:
            pacc = self.account(iin=parent.iin, birth=parent.birth_date)
            out.parent = SimpleNamespace(iin=parent.iin, account=pacc, h=self.headers(pacc))
        return out

    def officer(self, org=COLLEGES[0]) -> dict:
        return self.headers(self.account(("college_officer",), org), ("college_officer",), org)

    def admin(self) -> dict:
        return self.headers(self.account(("admin",)), ("admin",))

    # campaigns and offers
    def campaign(self, campaign_id=CAMPAIGN, region=REGION, year=2026, expect=201) -> dict:
        resp = self.client.post(
            "/campaigns",
            json={"id": campaign_id, "year": year, "region_id": region},
            headers=self.admin(),
        )
        assert resp.status_code == expect, resp.json
        return resp.json

    def offer(
        self,
        name,
        college=COLLEGES[0],
        code="0101000",
        seats=2,
        base="after_9",
        language="ru",
        rural=False,
        campaign=CAMPAIGN,
        form="full_time",
    ) -> str:
        resp = self.client.post(
            f"/campaigns/{campaign}/offers",
            json={
                "college_id": college,
                "specialty_code": code,
                "language": language,
                "study_form": form,
                "base_education": base,
                "state_order_seats": seats,
                "paid_seats": 5,
                "rural": rural,
            },
            headers=self.admin(),
        )
        assert resp.status_code == 201, resp.json
        self.offers[name] = resp.json["id"]
        return resp.json["id"]

    # applications
    def apply(self, who, offers, average=4.5, base="after_9", claims=(), expect=201, **extra):
        body = {
            "campaign_id": CAMPAIGN,
            "base_education": base,
            "certificate_average": average,
            "choices": [{"offer_id": self.offers.get(o, o)} for o in offers],
            "quota_claims": list(claims),
            **extra,
        }
        resp = self.client.post("/applications", json=body, headers=who.h)
        assert resp.status_code == expect, resp.json
        return resp.json

    def upload(self, who, app_id, kind, data=PDF, quota=None, name="doc.pdf", expect=201):
        form = {"kind": kind, "file": (io.BytesIO(data), name)}
        if quota:
            form["quota"] = quota
        resp = self.client.post(
            f"/applications/{app_id}/documents",
            data=form,
            headers=who.h,
            content_type="multipart/form-data",
        )
        assert resp.status_code == expect, resp.json
        return resp.json

    def upload_all(self, who, app_id, claims=()):
        self.upload(who, app_id, "education_document")
        self.upload(who, app_id, "photo", JPEG, name="me.jpg")
        medical = "medical_031u" if "disability" in claims else "medical_075u"
        self.upload(who, app_id, medical)
        for c in claims:
            self.upload(who, app_id, "quota_proof", quota=c)

    def submit(self, who, app_id, expect=200):
        resp = self.client.post(f"/applications/{app_id}/submit", headers=who.h)
        assert resp.status_code == expect, resp.json
        return resp.json

    def review(self, app_id, decision="accepted", reasons=None, org=None, expect=200):
        app = self.db[store.APPLICATIONS].find_one({"_id": app_id})
        resp = self.client.post(
            f"/applications/{app_id}/review",
            json={"decision": decision, "reasons": reasons or {}},
            headers=self.officer(org or app["first_college_id"]),
        )
        assert resp.status_code == expect, resp.json
        return resp.json

    def accepted(self, offers, average, claims=(), base="after_9", **kw):
        who = self.applicant(**kw)
        app = self.apply(who, offers, average, base=base, claims=claims)
        self.upload_all(who, app["id"], claims)
        self.submit(who, app["id"])
        self.review(app["id"])
        who.app = app["id"]
        return who

    def get(self, who, app_id) -> dict:
        resp = self.client.get(f"/applications/{app_id}", headers=who.h)
        assert resp.status_code == 200, resp.json
        return resp.json

    def close_and_allocate(self, base="after_9") -> dict:
        if self.clock.now < AFTER_CLOSE:
            self.clock.now = AFTER_CLOSE
        resp = self.client.post(
            f"/campaigns/{CAMPAIGN}/allocations",
            json={"base_education": base},
            headers=self.admin(),
        )
        assert resp.status_code == 202, resp.json
        allocation.run_pending(self.deps)
        run = self.db[store.RUNS].find_one({"_id": resp.json["id"]})
        assert run["status"] == "done", run
        return run

    def events(self, routing_key: str) -> list[dict]:
        return [
            d["body"]["data"]
            for d in self.db[outbox.COLLECTION]
            .find({"routing_key": routing_key})
            .sort("created_at", 1)
        ]


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def registry():
    return made_up_people()


@pytest.fixture
def settings(mongo_url):
    return Settings(
        mongo_url=mongo_url,
        database=f"ap_{uuid.uuid4().hex[:10]}",
        amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
    )


@pytest.fixture
def world(settings, clock, registry, mongo_client):
    minter = TokenMinter()
    app = applicant_app.create_app(
        settings, verifier=minter.verifier, clock=clock, registry=registry
    )
    app.testing = True
    deps = app.extensions["applicant"]
    seed(deps.db)
    yield World(app.test_client(), deps, minter, registry, clock)
    mongo_client.drop_database(settings.database)

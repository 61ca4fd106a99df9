"""kindergarten under test: the real app on the embedded MongoDB-compatible server, a small
population registry in memory, a clock the test moves, tokens from a throw-away key."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest

from edu_common import accounts, outbox
from edu_common.testing import Clock, Registry, TokenMinter
from kindergarten import app as kg_app
from kindergarten import store
from kindergarten.settings import Settings

# Monday 2 March 2026, 10:00 in Almaty (UTC+5); the clock only moves when a test moves it.
NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
DISTRICT = "d-yesil"
OTHER_DISTRICT = "d-baikonur"
KG = "kg-1"
KG2 = "kg-2"
KG_OTHER = "kg-other"
GROUP = "g-2023-ru"


class World:
    """Helpers a test speaks in: parents with children, staff, tokens, the API."""

    def __init__(self, client, deps, minter, registry, clock):
        self.client = client
        self.deps = deps
        self.db = deps.db
        self.minter = minter
        self.registry = registry
        self.clock = clock

    # people and accounts
    def account(self, roles=("citizen",), org=None, iin=None) -> str:
        account_id = f"acc-{uuid.uuid4().hex[:10]}"
        self.db[accounts.ACCOUNTS].insert_one(
            {
                "_id": account_id,
                "revision": 1,
                "iin": iin,
                "full_name": "Тест Тестов",
                "roles": list(roles),
                "organization_id": org,
                "phone": None,
                "email": None,
                "language": "ru",
                "active": True,
            }
        )
        return account_id

    def parent(self, *births: dt.date) -> SimpleNamespace:
        person = self.registry.add(dt.date(1990, 1, 1))
        kids = [self.registry.add(b, parents=[person.iin]) for b in births]
        return SimpleNamespace(iin=person.iin, account=self.account(iin=person.iin), children=kids)

    def headers(self, account_id, roles=("citizen",), org=None, key=None) -> dict:
        h = self.minter.headers(account_id, roles=roles, organization_id=org)
        if key:
            h["Idempotency-Key"] = key
        return h

    def as_parent(self, parent) -> dict:
        return self.headers(parent.account)

    def staff(self, kg=KG) -> dict:
        return self.headers(self.account(("kindergarten_staff",), kg), ("kindergarten_staff",), kg)

    def operator(self, district=DISTRICT) -> dict:
        acc = self.account(("district_operator",), district)
        return self.headers(acc, ("district_operator",), district)

    def admin(self) -> dict:
        return self.headers(self.account(("admin",)), ("admin",))

    # the queue
    def apply(self, parent, child=0, expect=201, **body) -> dict:
        payload = {
            "child_iin": parent.children[child].iin,
            "district_id": DISTRICT,
            "kindergarten_ids": [KG],
            "language": "ru",
            "category": "general",
            **body,
        }
        if payload["category"] != "general":
            payload.setdefault("category_reason", "справка")
        resp = self.client.post("/applications", json=payload, headers=self.as_parent(parent))
        assert resp.status_code == expect, resp.json
        return resp.json

    def number(self, parent, app_id) -> int:
        resp = self.client.get(f"/applications/{app_id}", headers=self.as_parent(parent))
        assert resp.status_code == 200, resp.json
        return resp.json["queue_number"]

    def publish(self, count, group=GROUP, kg=KG, expect=201) -> dict:
        resp = self.client.post(
            f"/kindergartens/{kg}/groups/{group}/places",
            json={"count": count},
            headers=self.staff(kg),
        )
        assert resp.status_code == expect, resp.json
        return resp.json

    def referral_of(self, app_id) -> dict | None:
        return self.db[store.REFERRALS].find_one(
            {"application_id": app_id, "status": {"$in": ["offered", "confirmed"]}}
        )

    def events(self, routing_key: str) -> list[dict]:
        return [
            d["body"]["data"] for d in self.db[outbox.COLLECTION].find({"routing_key": routing_key})
        ]


def seed_catalogue(db) -> None:
    db[store.DISTRICTS].insert_many(
        [{"_id": DISTRICT, "name": "Есильский район"}, {"_id": OTHER_DISTRICT, "name": "Байконур"}]
    )
    db[store.KINDERGARTENS].insert_many(
        [
            {
                "_id": KG,
                "name": "Балапан",
                "district_id": DISTRICT,
                "address": "ул. 1",
                "languages": ["kk", "ru"],
            },
            {
                "_id": KG2,
                "name": "Айгөлек",
                "district_id": DISTRICT,
                "address": "ул. 2",
                "languages": ["kk", "ru"],
            },
            {
                "_id": KG_OTHER,
                "name": "Байтерек",
                "district_id": OTHER_DISTRICT,
                "address": "ул. 3",
                "languages": ["ru"],
            },
        ]
    )
    db[store.GROUPS].insert_many(
        [
            {
                "_id": GROUP,
                "kindergarten_id": KG,
                "district_id": DISTRICT,
                "name": "Ромашка",
                "birth_year": 2023,
                "language": "ru",
                "capacity": 25,
                "teacher_ids": [],
            },
            {
                "_id": "g-2023-kk",
                "kindergarten_id": KG,
                "district_id": DISTRICT,
                "name": "Күн",
                "birth_year": 2023,
                "language": "kk",
                "capacity": 25,
                "teacher_ids": [],
            },
            {
                "_id": "g2-2023-ru",
                "kindergarten_id": KG2,
                "district_id": DISTRICT,
                "name": "Звёздочка",
                "birth_year": 2023,
                "language": "ru",
                "capacity": 25,
                "teacher_ids": [],
            },
        ]
    )


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture
def settings(mongo_url):
    return Settings(
        mongo_url=mongo_url,
        database=f"kg_{uuid.uuid4().hex[:10]}",
        amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
    )


@pytest.fixture
def world(settings, clock, registry, mongo_client):
    minter = TokenMinter()
    app = kg_app.create_app(settings, verifier=minter.verifier, clock=clock, registry=registry)
    app.testing = True
    deps = app.extensions["kindergarten"]
    seed_catalogue(deps.db)
    yield World(app.test_client(), deps, minter, registry, clock)
    mongo_client.drop_database(settings.database)

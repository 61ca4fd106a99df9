"""Test harness for escorts, door codes and attendance: a small world of people in a population
registry file, kindergartens, enrolled children and accounts, and the kindergarten app on the
embedded MongoDB-compatible server.

Test modules take the ``kids`` fixture with ``kids = kg_children_fixtures.kids``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

import pytest

from edu_common import accounts, mongo, outbox
from edu_common.kz import make_iin
from edu_common.kz.iin import parse_iin
from edu_common.testing import Clock, TokenMinter
from kindergarten import app as kg_app
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.settings import Settings
from kindergarten.usecases import common
from kindergarten.usecases.enrolment import add_parent_as_escort

# 10:00 in Almaty on a Friday; the clock only moves when a test moves it.
NOW = dt.datetime(2026, 11, 20, 5, 0, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
KG = "kg-1"
KG_OTHER = "kg-2"
GROUP = "grp-1"


def years_ago(years: int, day: dt.date = TODAY) -> dt.date:
    return day.replace(year=day.year - years)


@dataclass
class Person:
    key: str
    iin: str
    surname: str
    name: str
    phone: str | None
    account_id: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.name}"


def _people() -> dict[str, Person]:
    spec = [
        # key, birth date, sex, surname, name, phone
        ("mother", dt.date(1995, 4, 23), "female", "Ахметова", "Айгерим", "+77010000001"),
        ("father", dt.date(1990, 1, 15), "male", "Ахметов", "Ерлан", "+77010000002"),
        ("granny", dt.date(1960, 6, 1), "female", "Сейтова", "Гульнар", "+77010000003"),
        ("uncle", dt.date(1985, 2, 2), "male", "Сейтов", "Марат", "+77010000004"),
        ("aunt", dt.date(1988, 3, 3), "female", "Нурланова", "Дана", "+77010000005"),
        ("cousin", dt.date(2000, 7, 7), "male", "Нурланов", "Арман", "+77010000006"),
        ("neighbour", dt.date(1979, 9, 9), "female", "Касымова", "Жанар", "+77010000007"),
        ("sixteen_today", years_ago(16), "female", "Омарова", "Алия", "+77010000008"),
        (
            "sixteen_tomorrow",
            years_ago(16, TODAY + dt.timedelta(days=1)),
            "male",
            "Омаров",
            "Алмас",
            "+77010000009",
        ),
        ("teacher", dt.date(1982, 8, 8), "female", "Бекова", "Сауле", "+77010000010"),
        ("head", dt.date(1975, 5, 5), "female", "Жумабаева", "Роза", "+77010000011"),
        ("staff_parent", dt.date(1992, 12, 12), "female", "Искакова", "Мадина", "+77010000012"),
        ("other_staff", dt.date(1980, 1, 1), "male", "Абенов", "Нурлан", "+77010000013"),
        ("stranger", dt.date(1970, 10, 10), "male", "Ким", "Виктор", "+77010000014"),
        ("no_phone", dt.date(1971, 11, 11), "male", "Ли", "Олег", None),
    ]
    people = {}
    for serial, (key, born, sex, surname, name, phone) in enumerate(spec, start=1):
        iin = "950423451048" if key == "mother" else make_iin(born, sex, serial)
        people[key] = Person(key, iin, surname, name, phone)
    return people


def _record(p: Person, born: dt.date, sex: str, parents=()) -> dict:
    return {
        "iin": p.iin,
        "surname": p.surname,
        "name": p.name,
        "patronymic": None,
        "birth_date": born.isoformat(),
        "sex": sex,
        "citizenship": "KZ",
        "registered_address": "г. Кокшетау, ул. Абая, д. 1",
        "document": {
            "type": "id_card",
            "number": "0001",
            "issued_at": "2020-01-01",
            "issuer": "МВД",
        },
        "phones": [p.phone] if p.phone else [],
        "parents": list(parents),
    }


@dataclass
class Kids:
    """The world under test and helpers to act in it."""

    deps: Deps
    client: object
    clock: Clock
    minter: TokenMinter
    people: dict[str, Person]
    children: dict[str, str] = field(default_factory=dict)  # name -> child IIN

    @property
    def db(self):
        return self.deps.db

    def headers(self, who: str, **kw) -> dict:
        p = self.people[who]
        roles = ["citizen"]
        org = None
        if who in ("teacher", "head", "staff_parent"):
            roles, org = ["citizen", common.STAFF], KG
        if who == "other_staff":
            roles, org = ["citizen", common.STAFF], KG_OTHER
        return self.minter.headers(p.account_id, roles=roles, organization_id=org, **kw)

    def enrol(self, name: str, parent: str = "mother", *, first_escort: bool = True) -> str:
        """An enrolled child as enrolment leaves it, the parent its first escort."""
        serial = 100 + len(self.children)
        iin = make_iin(dt.date(2022, 1, 1) + dt.timedelta(days=serial), "female", serial)
        p = self.people[parent]
        enrolment = {
            "_id": iin,
            "child_iin": iin,
            "child_first_name": name,
            "kindergarten_id": KG,
            "group_id": GROUP,
            "parent_account_id": p.account_id,
            "parent_iin": p.iin,
            "application_id": uuid.uuid4().hex,
            "referral_id": uuid.uuid4().hex,
            "enrolled_at": self.clock(),
            "active": True,
        }

        def run(session):
            self.db[store.ENROLMENTS].insert_one(enrolment, session=session)
            if first_escort:
                add_parent_as_escort(self.deps, session, enrolment)

        mongo.in_transaction(self.db, run)
        self.children[name] = iin
        return iin

    def add_escort(self, child: str, who: str, parent: str = "mother", **body):
        p = self.people[who]
        payload = {"iin": p.iin, "phone": p.phone or "+77000000000", **body}
        return self.client.post(
            f"/children/{child}/escorts", json=payload, headers=self.headers(parent)
        )

    def door_code(self, kg: str = KG, who: str = "head") -> dict:
        r = self.client.get(f"/kindergartens/{kg}/door-code", headers=self.headers(who))
        assert r.status_code == 200, r.json
        return r.json

    def mark(self, child: str, who: str, direction: str = "in", code: str | None = None, **kw):
        body = {"direction": direction, **kw}
        if code is not None:
            body["door_code"] = code
        elif who not in ("teacher",):
            body["door_code"] = self.door_code()["payload"]
        return self.client.post(
            f"/children/{child}/attendance", json=body, headers=self.headers(who)
        )

    def events(self, routing_key: str) -> list[dict]:
        return [d["body"] for d in self.db[outbox.COLLECTION].find({"routing_key": routing_key})]


@pytest.fixture
def kids(mongo_url, mongo_client, tmp_path):
    people = _people()
    records = []
    for p in people.values():
        parsed = parse_iin(p.iin)
        records.append(_record(p, parsed.birth_date, parsed.sex))
    registry_file = tmp_path / "population.json"
    registry_file.write_text(json.dumps({"people": records}, ensure_ascii=False), encoding="utf-8")
    database = f"kg_children_{uuid.uuid4().hex[:10]}"
    settings = Settings(
        mongo_url=mongo_url,
        database=database,
        amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
        registry_url=str(registry_file),
        door_code_secret="test-door-secret",
    )
    clock = Clock(NOW)
    minter = TokenMinter()
    # The real composition root, with the test's clock, registry file and token key.
    app = kg_app.create_app(settings, verifier=minter.verifier, clock=clock)
    app.testing = True
    deps = app.extensions["kindergarten"]
    db = deps.db
    db[store.KINDERGARTENS].insert_many(
        [
            {
                "_id": KG,
                "name": "Балапан",
                "district_id": "d-1",
                "address": "Абая 1",
                "languages": ["kk", "ru"],
            },
            {
                "_id": KG_OTHER,
                "name": "Айгөлек",
                "district_id": "d-1",
                "address": "Абая 2",
                "languages": ["kk"],
            },
        ]
    )
    for key, p in people.items():
        p.account_id = f"acc-{key}"
        roles = ["citizen"]
        org = None
        if key in ("teacher", "head", "staff_parent"):
            roles, org = ["citizen", common.STAFF], KG
        if key == "other_staff":
            roles, org = ["citizen", common.STAFF], KG_OTHER
        db[accounts.ACCOUNTS].insert_one(
            {
                "_id": p.account_id,
                "revision": 1,
                "iin": p.iin,
                "full_name": p.full_name,
                "roles": roles,
                "organization_id": org,
                "phone": p.phone,
                "email": f"{key}@example.kz",
                "language": "kk",
                "active": True,
            }
        )
    db[store.GROUPS].insert_one(
        {
            "_id": GROUP,
            "kindergarten_id": KG,
            "name": "Күншуақ",
            "birth_year": 2022,
            "language": "kk",
            "capacity": 20,
            "teacher_ids": [people["teacher"].account_id],
        }
    )
    yield Kids(deps=deps, client=app.test_client(), clock=clock, minter=minter, people=people)
    mongo_client.drop_database(database)

"""Test support for services and benchmarks: access tokens signed with a throw-away key, the way
identity signs them, a clock tests move by hand, and publishing events straight to the broker.
Never used by a running service."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import jwt
import pika
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edu_common.envelope import EventType
from edu_common.kz.iin import make_iin
from edu_common.registry import Person
from edu_common.web.auth import AUDIENCE, ISSUER, KeySource, TokenVerifier


class Registry:
    """The population registry's protocol over people a test makes up (valid IINs, parents)."""

    def __init__(self, *, sex: str = "female", name: str = "Айым", surname: str = "Тестова",
                 address: str = "Астана"):  # fmt: skip
        self.people: dict[str, Person] = {}
        self.serial = 100
        self.defaults = {"sex": sex, "name": name, "surname": surname, "address": address}

    def add(self, birth: dt.date, sex: str | None = None, parents=(), name: str | None = None):
        self.serial += 7
        sex = sex or self.defaults["sex"]
        iin = make_iin(birth, sex, self.serial)
        address = self.defaults["address"]
        person = Person(
            iin=iin,
            surname=self.defaults["surname"],
            name=name or self.defaults["name"],
            patronymic=None,
            birth_date=birth,
            sex=sex,
            citizenship="KZ",
            registered_address=address,
            actual_address=address,
            document={},
            phones=[],
            parents=list(parents),
        )
        self.people[iin] = person
        return person

    def find_person(self, iin):
        return self.people.get(iin)

    def phones_for(self, iin):
        return []

    def children_of(self, iin):
        return [p for p in self.people.values() if iin in p.parents]


class Clock:
    """A clock for ``Deps(clock=...)``: it stands still until the test moves it."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


def envelope(event_type: EventType, data: dict, **overrides) -> dict:
    """An envelope as the bus carries it, NOT checked against the event's schema, so a test can
    send what a buggy or hostile publisher would."""
    return {
        "id": str(uuid.uuid4()),
        "type": event_type.type,
        "version": event_type.version,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "source": event_type.service,
        "correlation_id": None,
        "causation_id": None,
        "data": data,
        **overrides,
    }


def publish(amqp_url: str, event_type: EventType, *envelopes: dict, routing_key=None) -> None:
    """Publish envelopes to the event type's exchange, persistent, each confirmed by the broker."""
    key = routing_key or event_type.routing_key
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.exchange_declare(event_type.exchange, "topic", durable=True)
        channel.confirm_delivery()
        for body in envelopes:
            channel.basic_publish(
                event_type.exchange,
                key,
                json.dumps(body, default=str).encode(),
                pika.BasicProperties(
                    content_type="application/json",
                    message_id=body["id"],
                    type=key,
                    delivery_mode=2,
                ),
            )
    finally:
        connection.close()


class StaticKeys(KeySource):
    def __init__(self, keys: dict):
        self.keys = keys

    def key_for(self, kid: str):
        return self.keys.get(kid)


class TokenMinter:
    """``minter.headers("acc-1", roles=["citizen"])`` gives an Authorization header."""

    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex[:16]
        self.verifier = TokenVerifier(StaticKeys({self.kid: self.private.public_key()}))

    def token(
        self,
        account_id: str,
        *,
        roles=("citizen",),
        organization_id: str | None = None,
        ttl: int = 300,
        **claims,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": account_id,
            "roles": list(roles),
            "org": organization_id,
            "sid": uuid.uuid4().hex,
            "jti": uuid.uuid4().hex,
            "typ": "access",
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(body, self.private, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, account_id: str, **kw) -> dict:
        return {"Authorization": f"Bearer {self.token(account_id, **kw)}"}

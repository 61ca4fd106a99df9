"""Event contracts cannot drift: every routing key a worker binds to is published by some
service (or by the school journal, whose contract the platform offers), through the very same
contract object, and every contract's events are routed by their type and version."""

from __future__ import annotations

import pytest

from applicant.domain import lifecycle, services
from applicant.domain.campaign import TRACKS
from applicant.domain.quotas import CATEGORIES, POOLS
from edu_common.contracts import applicant as contract
from edu_common.contracts import catalogue
from edu_common.envelope import INTERNAL, PUBLIC
from kindergarten import app as kindergarten_app
from kindergarten import worker as kindergarten_worker
from kindergarten.settings import Settings as KindergartenSettings
from sms_notify import app as notify_app
from sms_notify import events as notify_events
from sms_notify import journal
from sms_notify import worker as notify_worker
from sms_notify.settings import Settings as NotifySettings


def _bindings(mongo_url):
    """Each consuming service's worker bindings, built the way its worker builds them."""
    kg = kindergarten_app.build_deps(KindergartenSettings(mongo_url=mongo_url))
    notify = notify_app.build_deps(NotifySettings(mongo_url=mongo_url))
    return {
        "kindergarten": kindergarten_worker.bindings(kg),
        "sms-notify": notify_worker.bindings(notify),
    }


def test_every_bound_routing_key_has_a_published_contract(mongo_url):
    known = catalogue.by_routing_key()
    unknown = [
        f"{service}.{b.name}: {exchange} {key}"
        for service, bindings in _bindings(mongo_url).items()
        for b in bindings
        for exchange, key in b.events
        if (exchange, key) not in known
    ]
    assert unknown == [], "bound, but no service publishes it"


def test_consumers_take_the_publishers_contract_objects():
    # The same object, not a copy with the same name: a changed field changes both sides.
    from_contracts = {id(e) for e in catalogue.ALL}
    for event in [*notify_events.CONSUMED, *journal.CONSUMED]:
        assert id(event) in from_contracts, event.routing_key


def test_the_check_sees_an_unpublished_key():
    assert ("kindergarten.events", "kindergarten.nothing.happened.v1") not in (
        catalogue.by_routing_key()
    )


@pytest.mark.parametrize("event", catalogue.ALL, ids=lambda e: e.routing_key)
def test_each_contract_is_routed_by_type_and_version(event):
    assert event.routing_key == f"{event.type}.v{event.version}"
    assert event.audience in (PUBLIC, INTERNAL)
    assert len({(e.exchange, e.routing_key) for e in catalogue.ALL}) == len(catalogue.ALL)


def test_contracts_read_tolerantly():
    # A field a publisher adds within a version is ignored by every reader, never a failure.
    event = catalogue.by_routing_key()[("identity.events", "identity.password.changed.v1")]
    data = {"account_id": "a-1", "reason": "change", "sessions_ended": 1, "added_later": True}
    assert "added_later" not in event.schema().load(data)


def test_applicants_wire_vocabulary_is_its_domains():
    assert contract.TRACKS == TRACKS
    assert contract.QUOTA_CATEGORIES == CATEGORIES and contract.POOLS == POOLS
    assert contract.DOCUMENT_KINDS == lifecycle.DOCUMENT_KINDS
    assert tuple(lifecycle.REQUEST_STATUSES) == contract.REQUEST_STATUSES
    assert tuple(services.TYPES) == contract.REQUEST_TYPES
    assert contract.DECLINE_REASONS == (lifecycle.DECLINED_BY_APPLICANT, lifecycle.DECLINED_LAPSED)
    assert contract.APPEAL_DECISIONS == (lifecycle.APPEAL_GRANTED, lifecycle.APPEAL_REJECTED)

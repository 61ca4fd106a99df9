"""The published event catalogue matches the code, and public events carry no secrets."""

from dev import catalogue
from edu_common.envelope import PUBLIC

SECRET_FIELDS = {"code", "password", "iin", "token", "refresh_token", "phone", "email"}


def test_catalogue_is_up_to_date():
    spec, page = catalogue.render()
    assert (catalogue.OUT / "asyncapi.json").read_text(encoding="utf-8") == spec, (
        "run `python -m dev.catalogue`"
    )
    assert (catalogue.OUT / "README.md").read_text(encoding="utf-8") == page


def test_events_for_other_agencies_carry_no_secrets_or_full_iins():
    for event in catalogue.all_events():
        if event.audience == PUBLIC:
            fields = set(event.schema().fields)
            assert not fields & SECRET_FIELDS, event.routing_key


def test_every_event_is_versioned_and_routed_by_its_type():
    for event in catalogue.all_events():
        assert event.routing_key == f"{event.type}.v{event.version}"
        assert event.exchange in {f"{event.service}.events", f"{event.service}.internal"}

"""Keyset pages: every item once, in order, ties on the time broken by _id."""

import datetime as dt

import pytest

from edu_common.paging import keyset_page, list_page
from edu_common.web.problems import Problem


@pytest.mark.parametrize("newest_first", [False, True])
def test_pages_walk_every_item_once_in_order(mongo_db, newest_first):
    at = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    docs = [{"_id": f"d{i:02d}", "at": at + dt.timedelta(minutes=i // 3)} for i in range(10)]
    mongo_db.things.insert_many(docs)
    seen, cursor = [], None
    while True:
        page = keyset_page(
            mongo_db.things, {}, field="at", limit=4, cursor=cursor, newest_first=newest_first
        )
        seen += [d["_id"] for d in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    expected = [d["_id"] for d in docs]
    assert seen == (expected[::-1] if newest_first else expected)


@pytest.mark.parametrize("field", ["at", "_id"])
@pytest.mark.parametrize("cursor", ["garbage", "W251bGxd", "W10", "eyJhIjogMX0", "W1tdXQ"])
def test_a_cursor_we_did_not_give_is_refused_the_same_way_everywhere(mongo_db, field, cursor):
    with pytest.raises(Problem) as raised:
        keyset_page(mongo_db.things, {}, field=field, limit=4, cursor=cursor)
    assert (raised.value.status, raised.value.code) == (400, "invalid_cursor")
    assert raised.value.extra["invalid_params"][0]["name"] == "cursor"


@pytest.mark.parametrize("newest_first", [False, True])
def test_pages_by_id_alone(mongo_db, newest_first):
    mongo_db.things.insert_many([{"_id": f"id-{i:03d}"} for i in range(7)])
    seen, cursor = [], None
    while True:
        page = keyset_page(mongo_db.things, {}, limit=3, cursor=cursor, newest_first=newest_first)
        seen += [d["_id"] for d in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    expected = [f"id-{i:03d}" for i in range(7)]
    assert seen == (expected[::-1] if newest_first else expected)


def test_pages_by_a_name_with_the_id_breaking_ties(mongo_db):
    names = ["Ертегі", "Айгөлек", "Балапан", "Айгөлек", "Ақбота"]
    mongo_db.things.insert_many([{"_id": f"k{i}", "name": n} for i, n in enumerate(names)])
    seen, cursor = [], None
    while True:
        page = keyset_page(mongo_db.things, {}, field="name", limit=2, cursor=cursor)
        seen += [(d["name"], d["_id"]) for d in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted((n, f"k{i}") for i, n in enumerate(names))


@pytest.mark.parametrize("newest_first", [False, True])
def test_pages_by_several_fields(mongo_db, newest_first):
    docs = [
        {"_id": f"o{i:02d}", "college": f"c{i % 3}", "code": f"s{(i * 7) % 4}"} for i in range(12)
    ]
    mongo_db.offers.insert_many(docs)
    seen, cursor = [], None
    while True:
        page = keyset_page(
            mongo_db.offers,
            {},
            field=("college", "code"),
            limit=5,
            cursor=cursor,
            newest_first=newest_first,
        )
        seen += [d["_id"] for d in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    expected = [d["_id"] for d in sorted(docs, key=lambda d: (d["college"], d["code"], d["_id"]))]
    assert seen == (expected[::-1] if newest_first else expected)
    with pytest.raises(Problem):  # a one-field cursor is not a two-field one
        keyset_page(mongo_db.offers, {}, field=("college", "code"), limit=5, cursor="W251bGxd")


def test_a_list_built_in_memory_pages_by_its_key():
    rows = [{"position": i, "x": i * 10} for i in range(1, 8)]
    seen, cursor = [], None
    while True:
        page = list_page(rows, key="position", limit=3, cursor=cursor)
        seen += [r["position"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(range(1, 8))
    assert list_page(rows, key="position", limit=7, cursor=None)["next_cursor"] is None
    with pytest.raises(Problem) as caught:
        list_page(rows, key="position", limit=3, cursor="garbage")
    assert (caught.value.status, caught.value.code) == (400, "invalid_cursor")

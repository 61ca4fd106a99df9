"""Keyset pages: every item once, in order, ties on the time broken by _id."""

import datetime as dt

import pytest

from edu_common.paging import BadCursor, keyset_page


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


def test_a_cursor_we_did_not_give_is_refused(mongo_db):
    with pytest.raises(BadCursor):
        keyset_page(mongo_db.things, {}, field="at", limit=4, cursor="garbage")

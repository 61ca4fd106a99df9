"""Indexes declared in code are created, and rebuilt when their declaration changes."""

import pytest

from edu_common.mongo import Index, ensure_indexes

pytestmark = pytest.mark.integration


def test_a_changed_index_declaration_is_rebuilt(mongo_db):
    ensure_indexes(mongo_db, [Index("things", [("k", 1)], unique=True, name="one_k",
                                    partial={"k": {"$type": "string"}})])  # fmt: skip
    ensure_indexes(mongo_db, [Index("things", [("k", 1)], unique=True, sparse=True, name="one_k")])
    info = mongo_db.things.index_information()["one_k"]
    assert info.get("sparse") is True and "partialFilterExpression" not in info
    ensure_indexes(mongo_db, [Index("things", [("k", 1)], unique=True, sparse=True, name="one_k")])
    mongo_db.things.insert_one({"k": "a"})
    with pytest.raises(Exception, match="duplicate"):
        mongo_db.things.insert_one({"k": "a"})

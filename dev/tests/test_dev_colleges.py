"""The development college catalogue: what it loads, and loading it twice changes nothing."""

import pytest

from dev import colleges

pytestmark = pytest.mark.integration


def test_it_loads_three_regions_thirty_colleges_and_three_hundred_offers_once(mongo_db):
    first = colleges.load(mongo_db)
    assert first["regions"] == 3 and first["colleges"] == 30 and first["offers"] == 300
    assert first["inserted"] == 3 + 30 + 3 + 300
    assert mongo_db["regions"].find_one({"_id": "kostanay"})["name_ru"] == "Костанайская область"
    for offer in mongo_db["offers"].find():
        college = mongo_db["colleges"].find_one({"_id": offer["college_id"]})
        assert offer["region_id"] == college["region_id"]
        specialty = next(s for s in college["specialties"] if s["code"] == offer["specialty_code"])
        assert offer["language"] in specialty["languages"] and len(offer["specialty_code"]) == 7
        assert sum(offer["quota_seats"].values()) <= offer["state_order_seats"]
    mongo_db["offers"].update_one({}, {"$set": {"paid_seats": 3}})
    again = colleges.load(mongo_db)
    assert again["inserted"] == 0
    assert mongo_db["offers"].count_documents({"paid_seats": 3}) == 1

"""The development kindergarten catalogue: what it loads, and loading it twice changes nothing."""

import pytest

from dev import kindergartens

pytestmark = pytest.mark.integration


def test_it_loads_akmola_and_astana_once(mongo_db):
    first = kindergartens.load(mongo_db)
    assert first["inserted"] == first["districts"] + first["kindergartens"] + first["groups"]
    assert first["districts"] == 12 and 30 <= first["kindergartens"] <= 60
    names = {d["name"] for d in mongo_db["districts"].find()}
    assert "Астана, район Есиль" in names and "Акмолинская область, г. Кокшетау" in names
    years = {g["birth_year"] for g in mongo_db["groups"].find()}
    assert years == {2021, 2022, 2023, 2024, 2025}
    for kg in mongo_db["kindergartens"].find():
        groups = list(mongo_db["groups"].find({"kindergarten_id": kg["_id"]}))
        assert {g["language"] for g in groups} == set(kg["languages"])
        assert all(g["district_id"] == kg["district_id"] for g in groups)

    mongo_db["groups"].update_one({"_id": groups[0]["_id"]}, {"$set": {"capacity": 7}})
    again = kindergartens.load(mongo_db)
    assert again["inserted"] == 0
    assert mongo_db["groups"].find_one({"_id": groups[0]["_id"]})["capacity"] == 7
    assert mongo_db["kindergartens"].count_documents({}) == first["kindergartens"]

"""The development kindergarten catalogue: districts of Akmola region and Astana, a few dozen
state kindergartens with groups for birth years 2021-2025 in Kazakh and Russian, so a newcomer
can apply, publish places and see referrals at once.

Deterministic and idempotent: the same ids every time, and running it twice changes nothing.
`python -m dev.kindergartens --mongo-url URL --database kindergarten`; dev/run.py calls load(db).
"""

from __future__ import annotations

import argparse
import sys

from pymongo import MongoClient
from pymongo.database import Database

DISTRICTS = [
    # id, name
    ("astana-almaty", "Астана, район Алматы"),
    ("astana-baikonur", "Астана, район Байконыр"),
    ("astana-yesil", "Астана, район Есиль"),
    ("astana-saryarka", "Астана, район Сарыарка"),
    ("astana-nura", "Астана, район Нура"),
    ("akmola-kokshetau", "Акмолинская область, г. Кокшетау"),
    ("akmola-stepnogorsk", "Акмолинская область, г. Степногорск"),
    ("akmola-akkol", "Акмолинская область, Аккольский район"),
    ("akmola-burabay", "Акмолинская область, Бурабайский район"),
    ("akmola-zerendi", "Акмолинская область, Зерендинский район"),
    ("akmola-shortandy", "Акмолинская область, Шортандинский район"),
    ("akmola-tselinograd", "Акмолинская область, Целиноградский район"),
]
NAMES = [
    "Балапан", "Айгөлек", "Ақбота", "Болашақ", "Қарлығаш", "Күншуақ",
    "Ертегі", "Нұрсәт", "Бөбек", "Жұлдыз", "Шұғыла", "Ақниет",
]  # fmt: skip
STREETS = ["ул. Абая", "ул. Кенесары", "пр. Республики", "ул. Сейфуллина", "ул. Ауэзова"]
PER_DISTRICT = 3
BIRTH_YEARS = range(2021, 2026)
GROUP_NAMES = {"kk": "Топ", "ru": "Группа"}


def catalogue() -> tuple[list[dict], list[dict], list[dict]]:
    districts, kindergartens, groups = [], [], []
    for d_index, (district_id, district_name) in enumerate(DISTRICTS):
        districts.append({"_id": district_id, "name": district_name})
        for k in range(PER_DISTRICT):
            n = d_index * PER_DISTRICT + k
            # Every third teaches in Kazakh only, the rest in both languages.
            languages = ["kk"] if n % 3 == 2 else ["kk", "ru"]
            kg_id = f"kg-{district_id}-{k + 1}"
            kindergartens.append(
                {
                    "_id": kg_id,
                    "name": f"Ясли-сад № {n + 1} «{NAMES[n % len(NAMES)]}»",
                    "district_id": district_id,
                    "address": f"{STREETS[n % len(STREETS)]}, {10 + n}",
                    "languages": languages,
                }
            )
            for year in BIRTH_YEARS:
                for language in languages:
                    groups.append(
                        {
                            "_id": f"{kg_id}-{year}-{language}",
                            "kindergarten_id": kg_id,
                            "district_id": district_id,
                            "name": f"{GROUP_NAMES[language]} {year}",
                            "birth_year": year,
                            "language": language,
                            "capacity": 25 if year <= 2023 else 15,
                            "teacher_ids": [],
                        }
                    )
    return districts, kindergartens, groups


def load(db: Database) -> dict:
    """Insert what is missing; what exists (even if edited since) is left alone."""
    districts, kindergartens, groups = catalogue()
    inserted = 0
    for collection, docs in (
        ("districts", districts),
        ("kindergartens", kindergartens),
        ("groups", groups),
    ):
        for doc in docs:
            done = db[collection].update_one(
                {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True
            )
            inserted += done.upserted_id is not None
    return {
        "districts": len(districts),
        "kindergartens": len(kindergartens),
        "groups": len(groups),
        "inserted": inserted,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mongo-url", default="mongodb://127.0.0.1:27017/?directConnection=true")
    parser.add_argument("--database", default="kindergarten")
    args = parser.parse_args(argv)
    client = MongoClient(args.mongo_url)
    try:
        counts = load(client[args.database])
    finally:
        client.close()
    print(
        f"kindergarten catalogue: {counts['districts']} districts, "
        f"{counts['kindergartens']} kindergartens, {counts['groups']} groups "
        f"({counts['inserted']} new)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

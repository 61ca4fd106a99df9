"""The development college catalogue: Kostanay, Akmola and North Kazakhstan regions, ten colleges
each with their specialties (state classifier codes, names in Kazakh and Russian), and each
region's 2026 admission campaign (the default dates) with 300 offers of state-order and paid
seats, so a newcomer can browse, copy the places into a campaign open now, and apply.

Deterministic and idempotent: the same ids every time, and running it twice changes nothing.
`python -m dev.colleges --mongo-url URL --database applicant`; dev/run.py calls load(db).
"""

from __future__ import annotations

import argparse
import sys

from pymongo import MongoClient
from pymongo.database import Database

from applicant.domain import campaign as dates
from applicant.settings import Settings

REGIONS = [
    # id, kk, ru, designated for resettlement of rural youth
    ("kostanay", "Қостанай облысы", "Костанайская область", True),
    ("akmola", "Ақмола облысы", "Акмолинская область", False),
    ("north-kazakhstan", "Солтүстік Қазақстан облысы", "Северо-Казахстанская область", True),
]
CITIES = {
    "kostanay": ["Қостанай", "Рудный", "Лисаковск", "Арқалық", "Житикара"],
    "akmola": ["Көкшетау", "Степногорск", "Щучинск", "Атбасар", "Макинск"],
    "north-kazakhstan": ["Петропавл", "Булаев", "Мамлют", "Сергеевка", "Тайынша"],
}
SPECIALTIES = [
    # code, kk, ru, creative, rural, qualification (kk, ru)
    ("0101000", "Мектепке дейінгі тәрбие және оқыту", "Дошкольное воспитание и обучение",
     False, False,
     ("Мектепке дейінгі ұйымдардың тәрбиешісі", "Воспитатель дошкольных организаций")),
    ("0111000", "Негізгі орта білім беру", "Основное среднее образование", False, True,
     ("Бастауыш білім беру мұғалімі", "Учитель начального образования")),
    ("0201000", "Құқықтану", "Правоведение", False, False, ("Заңгер", "Юрист")),
    ("0402000", "Дизайн", "Дизайн", True, False, ("Дизайнер", "Дизайнер")),
    ("0404000", "Аспаптық орындаушылық", "Инструментальное исполнительство", True, False,
     ("Оркестр әртісі", "Артист оркестра")),
    ("0508000", "Тамақтандыруды ұйымдастыру", "Организация питания", False, False,
     ("Аспаздық өнімдер технологы", "Технолог кулинарной продукции")),
    ("0518000", "Есеп және аудит", "Учет и аудит", False, False, ("Бухгалтер", "Бухгалтер")),
    ("0302000", "Мейіргер ісі", "Сестринское дело", False, True,
     ("Жалпы практикадағы мейіргер", "Медицинская сестра общей практики")),
    ("1201000", "Автомобиль көлігіне техникалық қызмет көрсету",
     "Техническое обслуживание автомобильного транспорта", False, True,
     ("Автокөлік жөндеу слесарі", "Слесарь по ремонту автомобилей")),
    ("1304000", "Есептеуіш техника және бағдарламалық қамтамасыз ету",
     "Вычислительная техника и программное обеспечение", False, False,
     ("Бағдарламашы техник", "Техник-программист")),
    ("1305000", "Ақпараттық жүйелер", "Информационные системы", False, False,
     ("Ақпараттық жүйелер технигі", "Техник информационных систем")),
    ("1504000", "Фермер шаруашылығы", "Фермерское хозяйство", False, True,
     ("Ауыл шаруашылығы өндірісінің шебері", "Мастер сельскохозяйственного производства")),
    ("1513000", "Ветеринария", "Ветеринария", False, True,
     ("Ветеринариялық техник", "Ветеринарный техник")),
    ("0711000", "Геодезия және картография", "Геодезия и картография", False, False,
     ("Техник-геодезист", "Техник-геодезист")),
    ("1114000", "Дәнекерлеу ісі", "Сварочное дело", False, True,
     ("Электргазбен дәнекерлеуші", "Электрогазосварщик")),
]  # fmt: skip
KINDS = ["Жоғары колледжі", "Политехникалық колледжі", "Педагогикалық колледжі",
         "Аграрлық колледжі", "Медициналық колледжі"]  # fmt: skip
KINDS_RU = ["Высший колледж", "Политехнический колледж", "Педагогический колледж",
            "Аграрный колледж", "Медицинский колледж"]  # fmt: skip
PER_REGION = 10
SPECIALTIES_PER_COLLEGE = 5
YEAR = 2026


def catalogue() -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    settings = Settings()
    regions, colleges, campaigns, offers = [], [], [], []
    for r, (region_id, kk, ru, resettlement) in enumerate(REGIONS):
        regions.append({"_id": region_id, "name_kk": kk, "name_ru": ru,
                        "resettlement": resettlement})  # fmt: skip
        campaign_id = f"{region_id}-{YEAR}"
        tracks = dates.default_tracks(YEAR, settings.tracks)
        campaigns.append({"_id": campaign_id, "year": YEAR, "region_id": region_id,
                          "tracks": dates.to_storage(tracks), "created_by": "dev"})  # fmt: skip
        for c in range(PER_REGION):
            n = r * PER_REGION + c
            city = CITIES[region_id][c % len(CITIES[region_id])]
            college_id = f"col-{region_id}-{c + 1:02d}"
            picked = [SPECIALTIES[(n * 3 + k) % len(SPECIALTIES)]
                      for k in range(SPECIALTIES_PER_COLLEGE)]  # fmt: skip
            specialties = []
            for code, s_kk, s_ru, creative, _rural, (q_kk, q_ru) in picked:
                specialties.append(
                    {
                        "code": code, "name_kk": s_kk, "name_ru": s_ru,
                        "qualifications": [{"code": f"{code[:4]}01{c % 10}",
                                            "name_kk": q_kk, "name_ru": q_ru}],
                        "languages": ["kk", "ru"],
                        "study_forms": ["full_time"] if creative else
                        ["full_time", "part_time", "evening"],
                        "bases": [{"base_education": dates.AFTER_9, "duration_months": 46},
                                  {"base_education": dates.AFTER_11, "duration_months": 34}],
                        "creative": creative,
                    }
                )  # fmt: skip
            colleges.append(
                {
                    "_id": college_id,
                    "region_id": region_id,
                    "name_kk": f"{city} {KINDS[n % len(KINDS)]}",
                    "name_ru": f"{KINDS_RU[n % len(KINDS_RU)]} г. {city} № {c + 1}",
                    "address": f"{city}, ул. Абая, {10 + n}",
                    "languages": ["kk", "ru"],
                    "specialties": specialties,
                }
            )
            for code, s_kk, s_ru, creative, rural, _ in picked:
                for language in ("kk", "ru"):
                    base = (
                        dates.AFTER_9
                        if (n + len(code) + (language == "ru")) % 2
                        else (dates.AFTER_11)
                    )
                    seats = 25 if language == "kk" else 20
                    offers.append(
                        {
                            "_id": f"{campaign_id}-{college_id}-{code}-{language}",
                            "campaign_id": campaign_id, "region_id": region_id,
                            "college_id": college_id,
                            "college_name_kk": colleges[-1]["name_kk"],
                            "college_name_ru": colleges[-1]["name_ru"],
                            "specialty_code": code, "specialty_name_kk": s_kk,
                            "specialty_name_ru": s_ru, "language": language,
                            "study_form": "full_time", "base_education": base,
                            "duration_months": 46 if base == dates.AFTER_9 else 34,
                            "creative": creative, "rural": rural,
                            "state_order_seats": seats, "paid_seats": 10,
                            "quota_seats": settings.quotas.seats(seats, rural, resettlement),
                        }
                    )  # fmt: skip
    return regions, colleges, campaigns, offers


def load(db: Database) -> dict:
    """Insert what is missing; what exists (even if edited since) is left alone."""
    regions, colleges, campaigns, offers = catalogue()
    inserted = 0
    for collection, docs in (
        ("regions", regions),
        ("colleges", colleges),
        ("campaigns", campaigns),
        ("offers", offers),
    ):
        for doc in docs:
            done = db[collection].update_one({"_id": doc["_id"]}, {"$setOnInsert": doc},
                                             upsert=True)  # fmt: skip
            inserted += done.upserted_id is not None
    return {
        "regions": len(regions),
        "colleges": len(colleges),
        "campaigns": len(campaigns),
        "offers": len(offers),
        "inserted": inserted,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mongo-url", default="mongodb://127.0.0.1:27017/?directConnection=true")
    parser.add_argument("--database", default="applicant")
    args = parser.parse_args(argv)
    client = MongoClient(args.mongo_url)
    try:
        counts = load(client[args.database])
    finally:
        client.close()
    print(
        f"college catalogue: {counts['regions']} regions, {counts['colleges']} colleges, "
        f"{counts['campaigns']} campaigns, {counts['offers']} offers ({counts['inserted']} new)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

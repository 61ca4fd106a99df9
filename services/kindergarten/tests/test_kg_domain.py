"""Pure rules: business days with Kazakhstan's holidays, the allocation cycle, queue numbers."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from edu_common.kz.calendar import BusinessCalendar
from kindergarten.domain import application, rules
from kindergarten.domain import queue as q
from kindergarten.domain.cycle import attempts

ALMATY = ZoneInfo("Asia/Almaty")
CAL = BusinessCalendar("KZ", ALMATY)


def test_almaty_is_utc_plus_5_since_march_2024():
    assert dt.datetime(2026, 12, 15, 12, tzinfo=ALMATY).utcoffset() == dt.timedelta(hours=5)
    assert dt.datetime(2023, 12, 15, 12, tzinfo=ALMATY).utcoffset() == dt.timedelta(hours=6)


def test_holidays_come_from_the_library():
    assert CAL.is_holiday(dt.date(2026, 12, 16))  # Independence Day
    assert CAL.is_holiday(dt.date(2026, 3, 23))  # Nauryz
    assert not CAL.is_business_day(dt.date(2026, 12, 19))  # Saturday
    assert CAL.is_business_day(dt.date(2026, 12, 17))


def test_a_deadline_is_the_end_of_the_nth_business_day_after_the_day():
    offered = dt.datetime(2026, 12, 15, 10, tzinfo=ALMATY)
    deadline = CAL.deadline(offered, 2).astimezone(ALMATY)
    assert deadline.date() == dt.date(2026, 12, 18)  # 16th a holiday: 17th, 18th
    assert (deadline.hour, deadline.minute) == (23, 59)
    # Late evening in Almaty is already the next day's date in nothing but local time.
    late = dt.datetime(2026, 12, 14, 23, 30, tzinfo=ALMATY).astimezone(dt.UTC)
    assert CAL.deadline(late, 1).astimezone(ALMATY).date() == dt.date(2026, 12, 15)
    # Over a weekend and Nauryz (21-25 March 2026).
    friday = dt.datetime(2026, 3, 20, 9, tzinfo=ALMATY)
    assert CAL.deadline(friday, 2).astimezone(ALMATY).date() == dt.date(2026, 3, 27)


def test_the_summer_freeze_period():
    assert CAL.in_period(dt.datetime(2026, 8, 1, 0, 1, tzinfo=ALMATY), "08-01", "08-31")
    assert CAL.in_period(dt.datetime(2026, 8, 31, 23, 59, tzinfo=ALMATY), "08-01", "08-31")
    # 31 July 20:00 UTC is already 1 August in Almaty.
    assert CAL.in_period(dt.datetime(2026, 7, 31, 20, 0, tzinfo=dt.UTC), "08-01", "08-31")
    assert not CAL.in_period(dt.datetime(2026, 9, 1, 0, 0, tzinfo=ALMATY), "08-01", "08-31")


def test_the_cycle_order():
    assert [c for c, _ in attempts(0, 1, 3)] == ["extraordinary", "priority", "general"]
    assert [c for c, _ in attempts(1, 1, 3)] == ["extraordinary", "general", "priority"]
    assert dict(attempts(0, 1, 3)[1:]) == {"priority": 1, "general": 2}
    assert dict(attempts(3, 1, 3)[1:]) == {"general": 0, "priority": 1}


def test_the_cycle_gives_p_g_g_g_when_both_queues_are_full():
    position, got = 0, []
    for _ in range(8):
        category, position = attempts(position, 1, 3)[1]
        got.append(category[0].upper())
    assert "".join(got) == "PGGGPGGG"


def test_age_rules():
    birth = dt.date(2024, 9, 2)
    assert not rules.old_enough_for_offer(birth, dt.date(2026, 3, 1), 18)
    assert rules.old_enough_for_offer(birth, dt.date(2026, 3, 2), 18)
    assert rules.may_apply(dt.date(2020, 3, 3), dt.date(2026, 3, 2), 6)
    assert not rules.may_apply(dt.date(2020, 3, 2), dt.date(2026, 3, 2), 6)
    assert rules.same_batch(dt.date(2023, 5, 1), dt.date(2023, 5, 31), 31)
    assert not rules.same_batch(dt.date(2023, 5, 1), dt.date(2023, 6, 2), 31)
    assert application.queue_category("priority", "pending") == "general"
    assert application.queue_category("priority", "rejected") == "general"
    assert application.queue_category("priority", "confirmed") == "priority"


class Model:
    """The queue structure in memory, checked against counting the queue."""

    def __init__(self):
        self.counter = 0
        self.nets: dict[str, int] = {}
        self.blocks: dict[int, list] = {}
        self.arrivals: list[tuple[int, int]] = []
        self.entries: dict[str, dict] = {}

    def _event(self, base, key, d):
        b = q.block_of(base)
        self.nets[str(b)] = self.nets.get(str(b), 0) + d
        self.blocks.setdefault(b, []).append({"k": list(key), "d": d})

    def arrive(self, app_id, ts):
        self.counter += 1
        self.arrivals.append((self.counter, ts))
        self.entries[app_id] = {"base": self.counter, "ts": ts, "extra": False}

    def insert(self, app_id, ts):
        before = [b for b, t in self.arrivals if t <= ts]
        base = max(before) if before else 0
        self._event(base, (base, ts, app_id), +1)
        self.entries[app_id] = {"base": base, "ts": ts, "extra": True}

    def depart(self, app_id):
        e = self.entries.pop(app_id)
        self._event(e["base"], (e["base"], e["ts"], app_id), -1)

    def number(self, app_id):
        e = self.entries[app_id]
        return q.number(
            base=e["base"],
            extra=e["extra"],
            key=(e["base"], e["ts"], app_id),
            nets=self.nets,
            events=self.blocks.get(q.block_of(e["base"]), []),
        )


def test_queue_numbers_match_counting_under_random_arrivals_insertions_and_departures():
    rnd = random.Random(5)
    m = Model()
    ts = 0
    for i in range(3000):
        ts += rnd.randint(1, 5)
        roll = rnd.random()
        if roll < 0.6 or not m.entries:
            m.arrive(f"a{i}", ts)
        elif roll < 0.7:
            m.insert(f"x{i}", rnd.randint(0, ts))  # a category confirmed at its old time
        else:
            m.depart(rnd.choice(sorted(m.entries)))
    ordered = sorted(m.entries, key=lambda a: (m.entries[a]["base"], m.entries[a]["ts"], a))
    by_time = sorted(m.entries, key=lambda a: (m.entries[a]["ts"], m.entries[a]["base"], a))
    assert ordered == by_time  # queue order is the order of application
    assert [m.number(a) for a in ordered] == list(range(1, len(ordered) + 1))
    assert max(e["base"] for e in m.entries.values()) > 4 * q.BLOCK  # several blocks used

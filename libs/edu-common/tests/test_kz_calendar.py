import datetime as dt
from zoneinfo import ZoneInfo

from edu_common.kz.calendar import BusinessCalendar, WorkingCalendar

ALMATY = ZoneInfo("Asia/Almaty")
CAL = BusinessCalendar("KZ", ALMATY)


def test_holidays_and_weekends():
    assert CAL.is_holiday(dt.date(2026, 12, 16))  # Independence Day
    assert CAL.is_holiday(dt.date(2026, 3, 23))  # Nauryz
    assert not CAL.is_business_day(dt.date(2026, 12, 19))  # Saturday
    assert CAL.is_business_day(dt.date(2026, 12, 17))
    assert CAL.is_working_day(dt.date(2026, 12, 17))


def test_zone_by_name_is_the_same_calendar():
    by_name = WorkingCalendar("KZ", "Asia/Almaty")
    assert by_name.zone == ALMATY
    start = dt.datetime(2026, 12, 14, 10, 0, tzinfo=dt.UTC)
    assert by_name.deadline(start, 3) == CAL.deadline(start, 3)


def test_add_business_days_skips_weekends_and_holidays():
    # Monday 14 Dec 2026; 16 Dec is a holiday, 19-20 the weekend.
    assert CAL.add_business_days(dt.date(2026, 12, 14), 1) == dt.date(2026, 12, 15)
    assert CAL.add_business_days(dt.date(2026, 12, 14), 2) == dt.date(2026, 12, 17)
    assert CAL.add_working_days(dt.date(2026, 12, 14), 4) == dt.date(2026, 12, 21)


def test_deadline_is_end_of_local_day_in_utc():
    start = dt.datetime(2026, 12, 14, 22, 0, tzinfo=dt.UTC)  # already 15 Dec in Almaty
    end = CAL.deadline(start, 1)
    assert end.tzinfo == dt.UTC
    assert end.astimezone(ALMATY).date() == dt.date(2026, 12, 17)
    assert (end.astimezone(ALMATY).hour, end.astimezone(ALMATY).minute) == (23, 59)


def test_in_period_plain_and_across_new_year():
    assert CAL.in_period(dt.datetime(2026, 8, 1, 0, 1, tzinfo=ALMATY), "08-01", "08-31")
    assert not CAL.in_period(dt.datetime(2026, 9, 1, 0, 0, tzinfo=ALMATY), "08-01", "08-31")
    assert CAL.in_period(dt.datetime(2026, 12, 31, 12, 0, tzinfo=ALMATY), "12-20", "01-10")
    assert CAL.in_period(dt.datetime(2027, 1, 5, 12, 0, tzinfo=ALMATY), "12-20", "01-10")
    assert not CAL.in_period(dt.datetime(2027, 2, 5, 12, 0, tzinfo=ALMATY), "12-20", "01-10")

"""kindergarten's settings, from the environment only, each declared once with its variable and
its default. Every number of the kindergarten section of docs/domain.md is a setting here, with
the default given there. The local time zone (deadlines, the August freeze, attendance days) is
the shared ``timezone`` (TIMEZONE)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edu_common.settings import ServiceSettings, file_stand_in, minutes, seconds, secret, setting

# Development-only secret for door codes: deployments set DOOR_CODE_SECRET from a secret.
DEV_DOOR_CODE_SECRET = "dev-only-door-code-secret-not-for-production"  # noqa: S105


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    database: str = setting("MONGO_DATABASE", "kindergarten")
    # A file stand-in of the population registry: a development default (deployments give the
    # registry's https:// address).
    registry_url: str = setting("POPULATION_REGISTRY_URL", "dev/population.json", dev=file_stand_in)
    holidays_country: str = setting("KG_HOLIDAYS_COUNTRY", "KZ")
    # Queue (DOMAIN: up to 4 kindergartens; the child must be under 6 to apply).
    max_kindergartens: int = setting("KG_MAX_KINDERGARTENS", 4)
    max_child_age_years: int = setting("KG_MAX_CHILD_AGE_YEARS", 6)
    # The queue starts moving at 1.5 years.
    min_offer_age_months: int = setting("KG_MIN_OFFER_AGE_MONTHS", 18)
    # Children of one family born within a month form a batch.
    batch_window_days: int = setting("KG_BATCH_WINDOW_DAYS", 31)
    # Allocation: extraordinary first, then 1 priority : 3 general.
    cycle_priority: int = setting("KG_CYCLE_PRIORITY", 1)
    cycle_general: int = setting("KG_CYCLE_GENERAL", 3)
    # Calendar days a place is offered in queue order before it is open to claims.
    offer_in_queue_days: int = setting("KG_OFFER_IN_QUEUE_DAYS", 1)
    # Referrals.
    confirm_business_days: int = setting("KG_CONFIRM_BUSINESS_DAYS", 2)
    enrol_business_days: int = setting("KG_ENROL_BUSINESS_DAYS", 5)
    extend_max_days: int = setting("KG_EXTEND_MAX_DAYS", 30)
    stop_list_days: int = setting("KG_STOP_LIST_DAYS", 10)
    reminder_hours: int = setting("KG_REMINDER_HOURS", 24)  # before a referral lapses
    # Tell the parent when the queue number moved by more than this.
    queue_number_notify_step: int = setting("KG_QUEUE_NUMBER_NOTIFY_STEP", 10)
    # The summer freeze: no places published from/to these days (MM-DD, inclusive).
    freeze_from: str = setting("KG_FREEZE_FROM", "08-01")
    freeze_to: str = setting("KG_FREEZE_TO", "08-31")
    resort_by: str = setting("KG_RESORT_BY", "06-30")  # the yearly re-sort runs on this day
    page_size: int = setting("KG_PAGE_SIZE", 50)
    # How often the worker looks for lapses, reminders, open places; and compares queue numbers
    # with the last told.
    sweep_seconds: int = setting("KG_SWEEP_SECONDS", 60)
    number_sweep_seconds: int = setting("KG_NUMBER_SWEEP_SECONDS", 3600)
    # Escorts, door codes, attendance.
    escorts_per_child: int = setting("KG_ESCORTS_PER_CHILD", 5)
    children_per_escort: int = setting("KG_CHILDREN_PER_ESCORT", 5)
    escort_min_age: int = setting("KG_ESCORT_MIN_AGE", 16)
    door_code_seconds: int = setting("KG_DOOR_CODE_SECONDS", 30)
    door_code_secret: str = secret("DOOR_CODE_SECRET", DEV_DOOR_CODE_SECRET)
    # Wrong door codes, counted per account and per child: after the free ones each wrong code
    # makes the next attempt wait (the delay doubling up to the cap); at the lock threshold
    # door codes are refused for the lock's time. Failures are forgotten after a quiet window.
    door_code_free_failures: int = setting("KG_DOOR_CODE_FREE_FAILURES", 3)
    door_code_delay: dt.timedelta = setting(
        "KG_DOOR_CODE_DELAY_SECONDS", dt.timedelta(seconds=15), parse=seconds
    )
    door_code_max_delay: dt.timedelta = setting(
        "KG_DOOR_CODE_MAX_DELAY_SECONDS", dt.timedelta(minutes=5), parse=seconds
    )
    door_code_lock_after: int = setting("KG_DOOR_CODE_LOCK_AFTER", 10)
    door_code_lock: dt.timedelta = setting(
        "KG_DOOR_CODE_LOCK_MINUTES", dt.timedelta(minutes=60), parse=minutes
    )
    door_code_failure_window: dt.timedelta = setting(
        "KG_DOOR_CODE_FAILURE_WINDOW_MINUTES", dt.timedelta(minutes=60), parse=minutes
    )
    # A teacher records marks for today and this many days before (Almaty dates); an older one
    # is a correction the district's operator approves.
    correction_days: int = setting("KG_TEACHER_CORRECTION_DAYS", 1)

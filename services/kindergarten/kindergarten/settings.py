"""kindergarten's settings, from the environment only. Every number of DOMAIN.md's
kindergarten section is a setting here, with the default DOMAIN.md gives."""

from __future__ import annotations

from dataclasses import dataclass, field

from edu_common.config import connections, env, env_int

# Development-only secret for door codes: deployments set DOOR_CODE_SECRET from a secret.
DEV_DOOR_CODE_SECRET = "dev-only-door-code-secret-not-for-production"  # noqa: S105


@dataclass(frozen=True)
class Settings:
    mongo_url: str
    database: str
    amqp_url: str
    registry_url: str = "dev/population.json"
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"  # identity's signing keys
    timezone: str = "Asia/Almaty"
    holidays_country: str = "KZ"
    # Queue (DOMAIN: up to 4 kindergartens; the child must be under 6 to apply).
    max_kindergartens: int = 4
    max_child_age_years: int = 6
    min_offer_age_months: int = 18  # the queue starts moving at 1.5 years
    batch_window_days: int = 31  # children of one family born within a month form a batch
    # Allocation: extraordinary first, then 1 priority : 3 general.
    cycle_priority: int = 1
    cycle_general: int = 3
    offer_in_queue_days: int = 1  # calendar days a place is offered in queue order
    # Referrals.
    confirm_business_days: int = 2
    enrol_business_days: int = 5
    extend_max_days: int = 30
    stop_list_days: int = 10
    reminder_hours: int = 24  # a reminder this long before a referral lapses
    queue_number_notify_step: int = 10  # tell the parent when the number moved by more
    # The summer freeze: no places published from/to these days (MM-DD, inclusive).
    freeze_from: str = "08-01"
    freeze_to: str = "08-31"
    resort_by: str = "06-30"  # the yearly re-sort runs on this day
    page_size: int = 50
    sweep_seconds: int = 60  # how often the worker looks for lapses, reminders, open places
    number_sweep_seconds: int = 3600  # how often queue numbers are compared with the last told
    # Escorts, door codes, attendance.
    escorts_per_child: int = 5
    children_per_escort: int = 5
    escort_min_age: int = 16
    door_code_seconds: int = 30
    door_code_secret: str = field(default=DEV_DOOR_CODE_SECRET, repr=False)

    @property
    def door_code_secret_is_development_default(self) -> bool:
        return self.door_code_secret == DEV_DOOR_CODE_SECRET

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            **connections("kindergarten"),
            registry_url=env("POPULATION_REGISTRY_URL", "dev/population.json"),
            jwks_url=env("IDENTITY_JWKS_URL", "http://127.0.0.1:8001/.well-known/jwks.json"),
            timezone=env("KG_TIMEZONE", "Asia/Almaty"),
            holidays_country=env("KG_HOLIDAYS_COUNTRY", "KZ"),
            max_kindergartens=env_int("KG_MAX_KINDERGARTENS", 4),
            max_child_age_years=env_int("KG_MAX_CHILD_AGE_YEARS", 6),
            min_offer_age_months=env_int("KG_MIN_OFFER_AGE_MONTHS", 18),
            batch_window_days=env_int("KG_BATCH_WINDOW_DAYS", 31),
            cycle_priority=env_int("KG_CYCLE_PRIORITY", 1),
            cycle_general=env_int("KG_CYCLE_GENERAL", 3),
            offer_in_queue_days=env_int("KG_OFFER_IN_QUEUE_DAYS", 1),
            confirm_business_days=env_int("KG_CONFIRM_BUSINESS_DAYS", 2),
            enrol_business_days=env_int("KG_ENROL_BUSINESS_DAYS", 5),
            extend_max_days=env_int("KG_EXTEND_MAX_DAYS", 30),
            stop_list_days=env_int("KG_STOP_LIST_DAYS", 10),
            reminder_hours=env_int("KG_REMINDER_HOURS", 24),
            queue_number_notify_step=env_int("KG_QUEUE_NUMBER_NOTIFY_STEP", 10),
            freeze_from=env("KG_FREEZE_FROM", "08-01"),
            freeze_to=env("KG_FREEZE_TO", "08-31"),
            resort_by=env("KG_RESORT_BY", "06-30"),
            page_size=env_int("KG_PAGE_SIZE", 50),
            sweep_seconds=env_int("KG_SWEEP_SECONDS", 60),
            number_sweep_seconds=env_int("KG_NUMBER_SWEEP_SECONDS", 3600),
            escorts_per_child=env_int("KG_ESCORTS_PER_CHILD", 5),
            children_per_escort=env_int("KG_CHILDREN_PER_ESCORT", 5),
            escort_min_age=env_int("KG_ESCORT_MIN_AGE", 16),
            door_code_seconds=env_int("KG_DOOR_CODE_SECONDS", 30),
            door_code_secret=env("DOOR_CODE_SECRET", DEV_DOOR_CODE_SECRET),
        )

"""applicant's settings, from the environment only. Every number of DOMAIN.md's "College
admission and student services" is a setting here, with the default DOMAIN.md or issue 11
gives."""

from __future__ import annotations

from dataclasses import dataclass, field

from applicant.domain.campaign import Defaults
from applicant.domain.quotas import QuotaRules
from applicant.domain.services import TYPES
from edu_common.config import ConfigError, connections, env, env_float, env_int

QUOTA_DEFAULTS = {
    "disability": 1.0,
    "veteran_equated": 0.5,
    "orphan": 1.0,
    "kandas": 4.0,
    "rural": 30.0,
    "rural_resettlement": 10.0,
}
# Working days from submission to the college's answer, per state service.
REQUEST_DEADLINE_DEFAULTS = {
    "enrolment": 5,
    "appeal": 3,
    "dormitory": 5,
    "free_meals": 5,
    "academic_leave": 5,  # sources differ: 2 or 5 (Order No. 506 of 04.12.2014)
    "return_from_academic_leave": 5,
    "transfer_reinstatement": 5,
    "document_duplicate": 5,
    "incomplete_studies_certificate": 3,
}


@dataclass(frozen=True)
class Settings:
    mongo_url: str
    database: str
    amqp_url: str
    registry_url: str = "dev/population.json"
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    timezone: str = "Asia/Almaty"
    holidays_country: str = "KZ"
    # Choices: up to 4 specialties across up to 4 colleges.
    max_choices: int = 4
    max_colleges: int = 4
    # Track dates (MM-DD), the defaults a new campaign gets.
    tracks: Defaults = field(default_factory=Defaults)
    # Quotas of the state order (% of an offer's state-order seats) and the rounding rule.
    quota_percent: dict = field(default_factory=lambda: dict(QUOTA_DEFAULTS))
    quota_rounding: str = "half_up"
    # The certificate average's scale.
    score_min: float = 1.0
    score_max: float = 5.0
    consent_age: int = 16  # younger applicants need a legal representative's consent
    confirm_working_days: int = 5  # to confirm enrolment after a wave's results
    appeal_working_days: int = 1  # to appeal after a wave's results
    request_deadlines: dict = field(default_factory=lambda: dict(REQUEST_DEADLINE_DEFAULTS))
    document_max_bytes: int = 5 * 1024 * 1024
    page_size: int = 50
    sweep_seconds: int = 60  # lapses and overdue requests
    allocation_poll_seconds: int = 2  # how soon the worker starts a requested wave
    announce_batch: int = 1000  # events written per transaction when results are announced

    @property
    def quotas(self) -> QuotaRules:
        return QuotaRules(percent=self.quota_percent, rounding=self.quota_rounding)

    @classmethod
    def from_env(cls) -> Settings:
        rounding = env("APPLICANT_QUOTA_ROUNDING", "half_up")
        if rounding not in ("half_up", "ceil", "floor"):
            raise ConfigError("APPLICANT_QUOTA_ROUNDING must be half_up, ceil or floor")
        return cls(
            **connections("applicant"),
            registry_url=env("POPULATION_REGISTRY_URL", "dev/population.json"),
            jwks_url=env("IDENTITY_JWKS_URL", "http://127.0.0.1:8001/.well-known/jwks.json"),
            timezone=env("APPLICANT_TIMEZONE", "Asia/Almaty"),
            holidays_country=env("APPLICANT_HOLIDAYS_COUNTRY", "KZ"),
            max_choices=env_int("APPLICANT_MAX_CHOICES", 4),
            max_colleges=env_int("APPLICANT_MAX_COLLEGES", 4),
            tracks=Defaults(
                after_9_opens=env("APPLICANT_AFTER_9_OPENS", "06-25"),
                after_9_closes=env("APPLICANT_AFTER_9_CLOSES", "08-18"),
                after_11_opens=env("APPLICANT_AFTER_11_OPENS", "06-25"),
                after_11_closes=env("APPLICANT_AFTER_11_CLOSES", "08-20"),
                creative_closes=env("APPLICANT_CREATIVE_CLOSES", "07-20"),
            ),
            quota_percent={
                k: env_float(f"APPLICANT_QUOTA_{k.upper()}_PERCENT", v)
                for k, v in QUOTA_DEFAULTS.items()
            },
            quota_rounding=rounding,
            score_min=env_float("APPLICANT_SCORE_MIN", 1.0),
            score_max=env_float("APPLICANT_SCORE_MAX", 5.0),
            consent_age=env_int("APPLICANT_CONSENT_AGE", 16),
            confirm_working_days=env_int("APPLICANT_CONFIRM_WORKING_DAYS", 5),
            appeal_working_days=env_int("APPLICANT_APPEAL_WORKING_DAYS", 1),
            request_deadlines={
                t: env_int(f"APPLICANT_REQUEST_{t.upper()}_WORKING_DAYS", d)
                for t, d in REQUEST_DEADLINE_DEFAULTS.items()
            },
            document_max_bytes=env_int("APPLICANT_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024),
            page_size=env_int("APPLICANT_PAGE_SIZE", 50),
            sweep_seconds=env_int("APPLICANT_SWEEP_SECONDS", 60),
            allocation_poll_seconds=env_int("APPLICANT_ALLOCATION_POLL_SECONDS", 2),
            announce_batch=env_int("APPLICANT_ANNOUNCE_BATCH", 1000),
        )


assert set(REQUEST_DEADLINE_DEFAULTS) == set(TYPES)

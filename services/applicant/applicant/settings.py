"""applicant's settings, from the environment only, each declared once with its variable and
its default. Every number of DOMAIN.md's "College admission and student services" is a setting
here, with the default DOMAIN.md or issue 11 gives. The local time zone (track dates, working-day
deadlines) is the shared ``timezone`` (TIMEZONE)."""

from __future__ import annotations

from dataclasses import dataclass

from applicant.domain.campaign import Defaults
from applicant.domain.quotas import QuotaRules
from applicant.domain.services import TYPES
from edu_common.settings import ServiceSettings, file_stand_in, setting


def _rounding(raw: str) -> str:
    if raw not in ("half_up", "ceil", "floor"):
        raise ValueError("half_up, ceil or floor")
    return raw


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    database: str = setting("MONGO_DATABASE", "applicant")
    registry_url: str = setting("POPULATION_REGISTRY_URL", "dev/population.json", dev=file_stand_in)
    holidays_country: str = setting("APPLICANT_HOLIDAYS_COUNTRY", "KZ")
    # Choices: up to 4 specialties across up to 4 colleges.
    max_choices: int = setting("APPLICANT_MAX_CHOICES", 4)
    max_colleges: int = setting("APPLICANT_MAX_COLLEGES", 4)
    # The dates (MM-DD, Almaty) a new campaign's tracks get unless it names its own.
    after_9_opens: str = setting("APPLICANT_AFTER_9_OPENS", "06-25")
    after_9_closes: str = setting("APPLICANT_AFTER_9_CLOSES", "08-18")
    after_11_opens: str = setting("APPLICANT_AFTER_11_OPENS", "06-25")
    after_11_closes: str = setting("APPLICANT_AFTER_11_CLOSES", "08-20")
    creative_closes: str = setting("APPLICANT_CREATIVE_CLOSES", "07-20")
    # Quotas of the state order, % of an offer's state-order seats (Decree No. 264), and the
    # rounding rule (docs/decisions/0012-quota-rounding-and-officers.md).
    quota_disability_percent: float = setting("APPLICANT_QUOTA_DISABILITY_PERCENT", 1.0)
    quota_veteran_equated_percent: float = setting("APPLICANT_QUOTA_VETERAN_EQUATED_PERCENT", 0.5)
    quota_orphan_percent: float = setting("APPLICANT_QUOTA_ORPHAN_PERCENT", 1.0)
    quota_kandas_percent: float = setting("APPLICANT_QUOTA_KANDAS_PERCENT", 4.0)
    quota_rural_percent: float = setting("APPLICANT_QUOTA_RURAL_PERCENT", 30.0)
    quota_rural_resettlement_percent: float = setting(
        "APPLICANT_QUOTA_RURAL_RESETTLEMENT_PERCENT", 10.0
    )
    quota_rounding: str = setting("APPLICANT_QUOTA_ROUNDING", "half_up", parse=_rounding)
    # The certificate average's scale.
    score_min: float = setting("APPLICANT_SCORE_MIN", 1.0)
    score_max: float = setting("APPLICANT_SCORE_MAX", 5.0)
    # Younger applicants need a legal representative's consent.
    consent_age: int = setting("APPLICANT_CONSENT_AGE", 16)
    # Working days after a wave's results: to confirm enrolment, to appeal.
    confirm_working_days: int = setting("APPLICANT_CONFIRM_WORKING_DAYS", 5)
    appeal_working_days: int = setting("APPLICANT_APPEAL_WORKING_DAYS", 1)
    # Working days from submission to the college's answer, per state service (DOMAIN.md:
    # academic leave 2 or 5, Order No. 506 of 04.12.2014; the certificate 3).
    request_enrolment_days: int = setting("APPLICANT_REQUEST_ENROLMENT_DAYS", 5)
    request_appeal_days: int = setting("APPLICANT_REQUEST_APPEAL_DAYS", 3)
    request_dormitory_days: int = setting("APPLICANT_REQUEST_DORMITORY_DAYS", 5)
    request_free_meals_days: int = setting("APPLICANT_REQUEST_FREE_MEALS_DAYS", 5)
    request_academic_leave_days: int = setting("APPLICANT_REQUEST_ACADEMIC_LEAVE_DAYS", 5)
    request_return_from_academic_leave_days: int = setting(
        "APPLICANT_REQUEST_RETURN_FROM_ACADEMIC_LEAVE_DAYS", 5
    )
    request_transfer_reinstatement_days: int = setting(
        "APPLICANT_REQUEST_TRANSFER_REINSTATEMENT_DAYS", 5
    )
    request_document_duplicate_days: int = setting("APPLICANT_REQUEST_DOCUMENT_DUPLICATE_DAYS", 5)
    request_incomplete_studies_certificate_days: int = setting(
        "APPLICANT_REQUEST_INCOMPLETE_STUDIES_CERTIFICATE_DAYS", 3
    )
    document_max_bytes: int = setting("APPLICANT_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024)
    page_size: int = setting("APPLICANT_PAGE_SIZE", 50)
    # How often the worker sweeps (lapses, overdue requests), and looks for a requested wave.
    sweep_seconds: int = setting("APPLICANT_SWEEP_SECONDS", 60)
    allocation_poll_seconds: int = setting("APPLICANT_ALLOCATION_POLL_SECONDS", 2)
    # Events written per transaction when a wave's results are announced.
    announce_batch: int = setting("APPLICANT_ANNOUNCE_BATCH", 1000)

    @property
    def tracks(self) -> Defaults:
        return Defaults(
            self.after_9_opens,
            self.after_9_closes,
            self.after_11_opens,
            self.after_11_closes,
            self.creative_closes,
        )

    @property
    def quota_percent(self) -> dict[str, float]:
        return {
            "disability": self.quota_disability_percent,
            "veteran_equated": self.quota_veteran_equated_percent,
            "orphan": self.quota_orphan_percent,
            "kandas": self.quota_kandas_percent,
            "rural": self.quota_rural_percent,
            "rural_resettlement": self.quota_rural_resettlement_percent,
        }

    @property
    def quotas(self) -> QuotaRules:
        return QuotaRules(percent=self.quota_percent, rounding=self.quota_rounding)

    @property
    def request_deadlines(self) -> dict[str, int]:
        return {t: getattr(self, f"request_{t}_days") for t in TYPES}

"""applicant's own database: collection names, document shapes and the indexes behind them.

- REGIONS ``{_id, name_kk, name_ru, resettlement}`` (``resettlement``: the government designates
  the region for rural youth moving there: its offers have that quota)
- COLLEGES ``{_id, region_id, name_kk, name_ru, address, languages, specialties: [{code,
  name_kk, name_ru, qualifications: [{code, name_kk, name_ru}], languages, study_forms,
  bases: [{base_education, duration_months}], creative}]}``
- CAMPAIGNS ``{_id, year, region_id, tracks: {after_9: {opens, closes}, after_11: {...},
  creative_closes} (ISO dates), created_at, created_by}``
- OFFERS ``{_id, campaign_id, region_id, college_id, specialty_code, specialty_name_kk/_ru,
  college_name_kk/_ru, language, study_form, base_education, creative, rural,
  state_order_seats, paid_seats, quota_seats: {category: n}}``
- APPLICATIONS ``{_id, campaign_id, region_id, year, applicant_account_id, applicant_iin,
  applicant_birth_date, base_education, certificate_average, score (hundredths), tie,
  choices: [{offer_id, college_id, creative}], offer_ids, college_ids, first_college_id,
  quota_claims, passed_exams: [offer ids], consent, status, active, review, created_at,
  submitted_at, first_submitted_at, accepted_at, decided_at, enrolment, declined_reason}``
  ``status`` is the stored one (domain/lifecycle.py); an accepted application's allocation
  lives in PLACEMENTS.
- DOCUMENTS ``{_id, application_id | request_id, kind, quota, file_id, filename, content_type,
  size, status, reason, current, uploaded_at, uploaded_by}``; the bytes in GridFS ``documents``
- RUNS (allocation waves) ``{_id, campaign_id, base_education, wave, status: queued | running |
  done | failed, requested_by, requested_at, started_at, finished_at, confirm_by, appeal_by,
  counts, announced: {offer, done}, lapses_swept}``
- PLACEMENTS ``{_id: "<run>:<offer>", run_id, campaign_id, base_education, wave, offer_id,
  admitted: [application ids, best first], pools: [pool of each], since: [wave of each],
  result: {pool: {seats, filled, cutoff}}}``: one per offer and wave
- APPEALS ``{_id, application_id, run_id, applicant_account_id, college_id, region_id, reason,
  status, decision, filed_at, decided_at, decided_by, new_average}``
- STUDENTS ``{_id (the application id), account_id, college_id, region_id, offer_id,
  specialty_code, language, study_form, base_education, group, status, enrolled_at}``
- REQUESTS ``{_id, type, account_id, college_id, region_id, student_id, fields, status,
  reason, deadline, overdue, submitted_at, history: [{status, at, by, reason}]}``
"""

from edu_common.mongo import Index

REGIONS = "regions"
COLLEGES = "colleges"
CAMPAIGNS = "campaigns"
OFFERS = "offers"
APPLICATIONS = "applications"
DOCUMENTS = "documents"
FILES_BUCKET = "documents"  # GridFS: the documents' bytes (documents.files, .chunks)
RUNS = "allocation_runs"
PLACEMENTS = "placements"
APPEALS = "appeals"
STUDENTS = "students"
REQUESTS = "requests"

INDEXES = [
    Index(COLLEGES, [("region_id", 1), ("name_ru", 1)], name="colleges_by_region"),
    Index(CAMPAIGNS, [("year", 1), ("region_id", 1)], unique=True, name="one_campaign_per_year"),
    Index(
        OFFERS,
        [
            ("campaign_id", 1),
            ("college_id", 1),
            ("specialty_code", 1),
            ("language", 1),
            ("study_form", 1),
            ("base_education", 1),
        ],
        unique=True,
        name="one_offer_per_kind",
    ),
    Index(OFFERS, [("campaign_id", 1), ("base_education", 1)], name="offers_by_track"),
    Index(OFFERS, [("college_id", 1)], name="offers_by_college"),
    # One application per person and campaign: the rule is the index.
    Index(
        APPLICATIONS,
        [("campaign_id", 1), ("applicant_iin", 1)],
        unique=True,
        partial={"active": True},
        name="one_application_per_person",
    ),
    Index(APPLICATIONS, [("applicant_account_id", 1), ("created_at", -1)], name="apps_of_person"),
    Index(
        APPLICATIONS,
        [("campaign_id", 1), ("base_education", 1), ("status", 1)],
        name="apps_by_track",
    ),
    Index(APPLICATIONS, [("college_ids", 1), ("status", 1)], name="apps_by_college"),
    Index(APPLICATIONS, [("offer_ids", 1), ("status", 1)], name="apps_by_offer"),
    Index(APPLICATIONS, [("region_id", 1), ("status", 1)], name="apps_by_region"),
    Index(DOCUMENTS, [("application_id", 1)], sparse=True, name="documents_of_application"),
    Index(DOCUMENTS, [("request_id", 1)], sparse=True, name="documents_of_request"),
    Index(DOCUMENTS, [("file_id", 1)], name="documents_by_file"),
    Index(RUNS, [("campaign_id", 1), ("base_education", 1), ("wave", 1)], name="runs_of_track"),
    Index(RUNS, [("status", 1), ("requested_at", 1)], name="runs_by_status"),
    # At most one wave queued or running per campaign track.
    Index(
        RUNS,
        [("campaign_id", 1), ("base_education", 1)],
        unique=True,
        partial={"busy": True},
        name="one_busy_run_per_track",
    ),
    Index(PLACEMENTS, [("admitted", 1)], name="placements_by_application"),
    Index(PLACEMENTS, [("run_id", 1)], name="placements_of_run"),
    Index(APPEALS, [("application_id", 1), ("run_id", 1)], unique=True, name="one_appeal_per_wave"),
    Index(APPEALS, [("college_id", 1), ("status", 1)], name="appeals_by_college"),
    Index(APPEALS, [("region_id", 1), ("status", 1)], name="appeals_by_region"),
    Index(STUDENTS, [("account_id", 1)], name="students_by_account"),
    Index(STUDENTS, [("college_id", 1)], name="students_by_college"),
    Index(REQUESTS, [("account_id", 1), ("submitted_at", -1)], name="requests_of_person"),
    Index(REQUESTS, [("college_id", 1), ("submitted_at", -1)], name="requests_of_college"),
    Index(REQUESTS, [("status", 1), ("deadline", 1)], name="requests_due"),
]

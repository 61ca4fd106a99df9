"""kindergarten's own database: collection names, document shapes and the indexes behind them.

Shapes other modules read (escorts and attendance rely on these):

- DISTRICTS ``{_id, name}``
- KINDERGARTENS ``{_id, name, district_id, address, languages}``
- GROUPS ``{_id, kindergarten_id, district_id, name, birth_year, language, capacity,
  teacher_ids: [account ids]}``
- ENROLMENTS ``{_id: child_iin, child_iin, child_first_name, kindergarten_id, group_id,
  parent_account_id, parent_iin, application_id, referral_id, enrolled_at, active: True}``
- APPLICATIONS ``{_id, child_iin, child_first_name, child_birth_date, birth_year,
  parent_account_id, parent_iin, district_id, kindergarten_ids, language, category,
  category_reason, category_status, queue_category, queue_key, base, extra, ts, registered_at,
  status, active, batch_id, stop_until, referral_id, notified_number, closed_reason, closed_at}``
  ``status``: queued | offered | closed; ``active`` while queued or offered (it counts in the
  queue). ``queue_category`` is the queue it waits in: the requested category once confirmed,
  else general.
- QUEUES: the positional structure behind queue numbers (usecases/queues.py,
  docs/decisions/0010-queue-numbers.md).
- CYCLES ``{_id: "district|birth_year", position}``: where the 1:3 cycle stands (0011).
- PLACES ``{_id, kindergarten_id, group_id, district_id, birth_year, language, status,
  published_at, open_at, referral_id, holder_application_id}``; status: offered (held by a
  referral) | vacant (nobody eligible; open to claims after open_at) | taken.
- REFERRALS ``{_id, application_id, place_id, group_id, kindergarten_id, district_id,
  child_iin, parent_account_id, status, via, offered_at, confirm_by, confirmed_at, enrol_by,
  extended, reminded, closed_at}``; status: offered | confirmed | enrolled | declined | expired.
- STOP_LIST ``{_id: child_iin, until}``
- ESCORTS ``{_id: "<child_iin>:<escort_iin>", child_iin, escort_iin, full_name, phone,
  kindergarten_id, parent_account_id, is_parent, added_at, added_by}``
- ESCORT_COUNTS ``{_id: "child:<iin>" | "escort:<iin>", n}``: escorts of a child / children of
  an escort; the conditional $inc on these is what makes the limits hold under concurrent
  requests.
- ATTENDANCE ``{_id, child_iin, kindergarten_id, group_id, month: "YYYY-MM", day: "YYYY-MM-DD",
  direction, at, marked_by: escort|teacher, by_account_id, by_name, created_at}``
- ATTENDANCE_MONTHS ``{_id: "<child_iin>:<YYYY-MM>", child_iin, month, approved_at,
  approved_by, days: {"DD": n}}``: days counts the marks per day; a mark is written only if the
  count it read is unchanged.
- DOOR_ATTEMPTS ``{_id: "account:<id>" | "child:<iin>", failures, last_failure_at, wait_until,
  locked_until, version, expires_at}``: wrong door codes (domain/door_guard.py); ``version``
  makes each update conditional on what was read. Removed by a right code, or (TTL) once
  neither the failure window nor a lock can matter.
- CORRECTIONS ``{_id, child_iin, kindergarten_id, district_id, group_id, direction, at, day,
  reason, status: pending|approved|rejected, requested_by, requested_by_name, requested_at,
  decided_by, decided_at, decision_reason, mark_id}``: a teacher's mark older than the
  correction window, waiting for the district's operator.
- AUDIT ``{_id, at, type, account_id, kindergarten_id, child_iin, client, details}``: security
  and correction events (wrong door codes, locks, corrections and their decisions).

Statuses are the domain's (domain/application.py, place.py, referral.py).
"""

from edu_common.mongo import Index

DISTRICTS = "districts"
KINDERGARTENS = "kindergartens"
GROUPS = "groups"
APPLICATIONS = "applications"
QUEUES = "queues"
CYCLES = "cycles"
PLACES = "places"
REFERRALS = "referrals"
ENROLMENTS = "enrolments"
STOP_LIST = "stop_list"
RUNS = "runs"  # once-a-year tasks already done: {_id: "resort-2026", at}
ESCORTS = "escorts"
ESCORT_COUNTS = "escort_counts"
ATTENDANCE = "attendance"
ATTENDANCE_MONTHS = "attendance_months"
DOOR_ATTEMPTS = "door_attempts"
CORRECTIONS = "attendance_corrections"
AUDIT = "audit"

INDEXES = [
    Index(DISTRICTS, [("name", 1)], unique=True, name="district_name"),
    Index(KINDERGARTENS, [("district_id", 1), ("name", 1)], name="kindergartens_by_district"),
    Index(GROUPS, [("kindergarten_id", 1), ("birth_year", 1)], name="groups_by_kindergarten"),
    # One active application per child: the rule is the index, not a check-then-insert race.
    Index(
        APPLICATIONS,
        [("child_iin", 1)],
        unique=True,
        partial={"active": True},
        name="one_active_application_per_child",
    ),
    Index(APPLICATIONS, [("parent_account_id", 1), ("registered_at", -1)], name="apps_by_parent"),
    Index(APPLICATIONS, [("queue_key", 1), ("active", 1)], name="apps_by_queue"),
    # The first eligible application for a place: equality on everything but the queue order
    # (base), read in windows of bases (docs/decisions/0011-kindergarten-allocation.md).
    Index(
        APPLICATIONS,
        [
            ("kindergarten_ids", 1),
            ("birth_year", 1),
            ("language", 1),
            ("queue_category", 1),
            ("status", 1),
            ("base", 1),
        ],
        name="first_eligible",
    ),
    Index(APPLICATIONS, [("batch_id", 1)], sparse=True, name="apps_by_batch"),
    Index(APPLICATIONS, [("district_id", 1), ("status", 1)], name="apps_by_district"),
    Index(PLACES, [("district_id", 1), ("status", 1), ("open_at", 1)], name="open_places"),
    Index(PLACES, [("group_id", 1), ("status", 1)], name="places_by_group"),
    Index(REFERRALS, [("parent_account_id", 1), ("offered_at", -1)], name="referrals_by_parent"),
    Index(REFERRALS, [("kindergarten_id", 1), ("offered_at", -1)], name="referrals_by_kg"),
    Index(REFERRALS, [("status", 1), ("confirm_by", 1)], name="referrals_confirm_due"),
    Index(REFERRALS, [("status", 1), ("enrol_by", 1)], name="referrals_enrol_due"),
    Index(REFERRALS, [("application_id", 1)], name="referrals_by_application"),
    Index(ENROLMENTS, [("kindergarten_id", 1), ("group_id", 1)], name="enrolments_by_group"),
    Index(ENROLMENTS, [("parent_account_id", 1)], name="enrolments_by_parent"),
    Index(ESCORTS, [("child_iin", 1), ("added_at", 1)], name="escorts_by_child"),
    Index(ESCORTS, [("escort_iin", 1), ("added_at", 1)], name="escorts_by_escort"),
    Index(ATTENDANCE, [("child_iin", 1), ("at", 1)], name="attendance_by_child"),
    Index(ATTENDANCE, [("kindergarten_id", 1), ("day", 1)], name="attendance_by_kindergarten"),
    Index(
        CORRECTIONS,
        [("kindergarten_id", 1), ("status", 1), ("requested_at", 1)],
        name="corrections_by_kindergarten",
    ),
    Index(
        CORRECTIONS,
        [("district_id", 1), ("status", 1), ("requested_at", 1)],
        name="corrections_by_district",
    ),
    Index(DOOR_ATTEMPTS, [("expires_at", 1)], name="door_attempts_ttl", expire_after_seconds=0),
    Index(AUDIT, [("kindergarten_id", 1), ("at", 1)], name="audit_by_kindergarten"),
    Index(AUDIT, [("child_iin", 1), ("at", 1)], name="audit_by_child"),
]

"""How any part of sms-notify asks for a message to leave the platform. A stable contract.

Call ``enqueue`` inside the caller's own transaction (the consumer's ``ctx.session``, or
``edu_common.mongo.in_transaction``) on ``deps.db``::

    result = outgoing.enqueue(
        deps, session,                   # deps: the database, the limits, the time zone
        event_id=envelope.id,            # what caused it; with (to, channel) the message's key
        kind="homework",                 # a kind of KINDS (preferences mute kinds by name)
        to="+77010000001",               # E.164 for "sms", an address for "email"
        channel="sms",                   # "sms" | "email"
        language="kk",                   # kk | ru | en; a missing text falls back to English
        template="homework",             # templates/<template>.<lang>[.sms].txt
        params={"subject": "..."},       # the template's $placeholders
        account_id="acc-1",              # whose message (history, preferences); None if none
        urgent=False,                    # True: never held by quiet hours, never muted
        charge=None,                     # paid messages: see below
        now=deps.now(),                  # optional; defaults to deps.now()
        prefs=None, account=None,        # optional: the recipient's preferences / account
    )                                    #   documents, when already read (saves reads)

It renders the text, counts SMS segments and applies, in this order:

1. the recipient's form (E.164 / e-mail): else stored as ``invalid_recipient`` (or
   ``no_recipient`` when ``to`` is empty), not sent;
2. an SMS goes only to a phone of the allowed countries (``SMS_ALLOWED_COUNTRIES``, any kind):
   else stored as ``refused_destination``, not sent;
3. the account's consent to notifications and its muted kinds (``accounts`` copy and
   ``preferences``): non-urgent messages are stored as ``suppressed`` (reason kept), not sent;
4. limits per recipient against SMS pumping (``deps.limits``: codes per phone per window; a
   daily cap for other SMS): stored as ``rejected_limit``, not sent;
5. the SMS budgets (``deps.budgets``, domain/budgets.py): every SMS but security ones draws one
   from its account's day (``budget_account_id``, else ``account_id``) and one from the
   platform's hour; over either it is stored as ``over_budget``, not sent. Pass
   ``budgeted=True`` for a code that is not a security message (a subscription's phone
   confirmation), ``budget_account_id=`` when another account caused it (an escort's SMS);
6. ``charge(message_id, segments) -> bool``, called with the same session, only for messages that
   are going to be sent: answer False when the balance cannot pay and the message is stored
   as ``no_balance``, not sent (charge it atomically: the balance never goes below zero); the
   budgets it drew on are given back;
7. quiet hours (the account's, default 22:00-08:00 in ``TIMEZONE``) for non-urgent messages:
   stored as ``held`` with ``release_at``; the delivery sweep releases it then;
8. otherwise ``queued``: the worker's delivery sweep sends it (every few seconds), with retries,
   provider fail-over and a dead-letter record when it gives up.

Answers ``Enqueued(id, status, segments, language)``, or ``None`` when a message for this
(event_id, to, channel) exists already (a redelivered event: nothing is stored, nothing is
charged). Raises ``templates.TemplateError`` when the template exists in no language or lacks
a value: a programming error, so the event is retried and parked rather than lost.

Ids: ``event_id`` is any string unique per cause; for messages not caused by one event (a weekly
digest) build a stable one, e.g. ``f"digest:{student}:{week}"``, so a re-run sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError, validate
from prometheus_client import Counter
from pymongo.client_session import ClientSession
from pymongo.database import Database

from edu_common import accounts
from sms_notify import store, templates
from sms_notify.deps import Deps
from sms_notify.domain import budgets as budget_rules
from sms_notify.domain import kinds as kind_rules
from sms_notify.domain import limits as limits_rules
from sms_notify.domain import quiet, segments
from sms_notify.events import E164

log = logging.getLogger(__name__)

ENQUEUED = Counter("notify_messages_enqueued_total", "Messages asked for", ["kind", "status"])
BUDGET_REACHED = Counter(
    "notify_sms_budget_reached_total",
    "SMS budgets spent: once per account and day, or per platform hour",
    ["budget"],
)

# Kinds that are never held, never muted, never charged, never capped daily.
URGENT_KINDS = kind_rules.URGENT
CHANNELS = ("sms", "email")

Charge = Callable[[str, int], bool]


@dataclass(frozen=True)
class Enqueued:
    id: str
    status: str  # queued | held | suppressed | rejected_limit | no_balance | invalid_recipient
    #              | no_recipient | over_budget | refused_destination
    segments: int  # SMS parts (1 for e-mail)
    language: str  # the language of the text, after any fallback


def valid_recipient(channel: str, to: str) -> bool:
    if channel == "sms":
        return bool(E164.match(to or ""))
    if channel == "email":
        try:
            validate.Email()(to or "")
        except ValidationError:
            return False
        return True
    return False


def preferences_of(db: Database, account_id: str | None, session=None) -> dict:
    if not account_id:
        return {}
    return db[store.PREFERENCES].find_one({"_id": account_id}, session=session) or {}


def consent_given(
    db: Database, account_id: str | None, prefs: dict, session=None, account: dict | None = None
) -> bool:
    """The explicit consent.changed event wins; otherwise the accounts copy; default yes."""
    if not account_id:
        return True
    if "consent" in prefs:
        return bool(prefs["consent"])
    if account is None:
        account = db[accounts.ACCOUNTS].find_one({"_id": account_id}, session=session) or {}
    return account.get("notifications_consent", True) is not False


def muted(prefs: dict, kind: str) -> bool:
    return (prefs.get("kinds") or {}).get(kind) is False


def enqueue(
    deps: Deps,
    session: ClientSession | None,
    *,
    event_id: str,
    kind: str,
    to: str,
    channel: str,
    language: str,
    template: str,
    params: dict,
    account_id: str | None = None,
    urgent: bool = False,
    charge: Charge | None = None,
    now: dt.datetime | None = None,
    prefs: dict | None = None,
    account: dict | None = None,
    **extra,
) -> Enqueued | None:
    now = now or deps.now()
    urgent = urgent or kind in URGENT_KINDS
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    text = templates.render(template, channel, language, params)
    counted = segments.count(text.body) if channel == "sms" else None
    parts = counted.count if counted else 1
    message = store.new_message(
        event_id=event_id,
        kind=kind,
        purpose=extra.pop("purpose", template),
        channel=channel,
        to=to,
        language=text.language,
        subject=text.subject,
        body=text.body,
        secret=extra.pop("secret", None),
        now=now,
        expires_at=extra.pop("expires_at", None),
        account_id=account_id,
        urgent=urgent,
        segments=parts,
        encoding=counted.encoding if counted else None,
        requested_language=language,
        **extra,
    )
    return admit(deps, session, message, charge=charge, now=now, prefs=prefs, account=account)


def admit(
    deps: Deps,
    session: ClientSession | None,
    message: dict,
    *,
    charge: Charge | None = None,
    now: dt.datetime | None = None,
    prefs: dict | None = None,
    account: dict | None = None,
) -> Enqueued | None:
    """Apply the rules (see the module's doc) to a built message and store it once.

    For callers that build the message themselves (codes keep their secret apart). ``prefs``
    and ``account``: the recipient's documents when the caller has read them already.
    """
    db, now = deps.db, now or deps.now()
    key = {k: message[k] for k in ("event_id", "to", "channel")}
    if db[store.MESSAGES].find_one(key, {"_id": 1}, session=session) is not None:
        # Before any effect: a redelivered event must neither count against limits nor pay.
        # (Two transactions racing on one key conflict; the retried one stops here.)
        return None
    urgent = bool(message.get("urgent")) or message["kind"] in URGENT_KINDS
    message["urgent"] = urgent
    parts = message.get("segments") or 1
    status, reason = message["status"], message.get("reason")
    if prefs is None:
        prefs = preferences_of(db, message.get("account_id"), session)
    if status == store.QUEUED:
        status, reason = _decide(deps, session, message, urgent, prefs, account, now)
    if status == store.QUEUED and charge is not None and not urgent:
        if not charge(message["_id"], parts):
            status, reason = store.NO_BALANCE, "the prepaid SMS balance cannot pay for it"
            _give_back(db, session, message.pop("budget_counters", []))
        else:
            message["charged_segments"] = parts
    if status == store.QUEUED and not urgent:
        hours = quiet.QuietHours.from_doc(prefs.get("quiet_hours"), deps.settings.timezone)
        release = quiet.release_at(now, hours)
        if release is not None:
            status = store.HELD
            message["release_at"] = release
            message["next_attempt_at"] = release
    if status not in (store.QUEUED, store.HELD):
        message.pop("secret", None)
        message.pop("next_attempt_at", None)
        message["reason"] = reason
    message["status"] = status
    if not store.insert_once(db, message, session=session):
        return None
    ENQUEUED.labels(message["kind"], status).inc()
    log.info(
        "message stored",
        extra={
            "message_id": message["_id"],
            "event_id": message["event_id"],
            "kind": message["kind"],
            "channel": message["channel"],
            "status": status,
        },
    )
    return Enqueued(message["_id"], status, parts, message["language"])


def _decide(
    deps: Deps, session, message: dict, urgent: bool, prefs: dict, account, now: dt.datetime
) -> tuple[str, str | None]:
    db = deps.db
    channel, to, kind = message["channel"], message["to"], message["kind"]
    if not to:
        return store.NO_RECIPIENT, f"no {'phone' if channel == 'sms' else 'e-mail'} known"
    if not valid_recipient(channel, to):
        return (
            store.INVALID_RECIPIENT,
            f"not a valid {'E.164 phone' if channel == 'sms' else 'e-mail address'}",
        )
    account_id = message.get("account_id")
    if channel == "sms" and not budget_rules.destination_allowed(to, deps.budgets.countries):
        return store.REFUSED_DESTINATION, "the phone is outside the allowed countries"
    if not urgent:
        if not consent_given(db, account_id, prefs, session, account):
            return store.SUPPRESSED, "notifications consent withdrawn"
        if muted(prefs, kind):
            return store.SUPPRESSED, f"kind {kind} muted by the person"
    refused = _within_limits(deps, session, message, now)
    if refused is not None:
        return refused
    return _draw_on_budgets(deps, session, message, now)


def _within_limits(deps: Deps, session, message: dict, now: dt.datetime):
    """None, or (rejected_limit, why) when the recipient's per-phone window is full."""
    db = deps.db
    channel, to, kind = message["channel"], message["to"], message["kind"]
    rule = limits_rules.window(kind, channel, deps.limits)
    if rule is None:
        return None
    span, most, counter = rule
    # Touching the recipient's document makes concurrent checks for one phone conflict, so
    # the transaction that loses is retried and counts the winner's message.
    db[store.RECIPIENTS].update_one(
        {"_id": to}, {"$inc": {"seq": 1}, "$set": {"at": now}}, upsert=True, session=session
    )
    query = {
        "to": to,
        "channel": "sms",
        "created_at": {"$gt": now - span},
        "status": {"$nin": list(store.NOT_SENT)},
    }
    query["kind"] = "code" if counter == "codes" else {"$nin": ["code", "security"]}
    if not limits_rules.allowed(db[store.MESSAGES].count_documents(query, session=session), most):
        return store.REJECTED_LIMIT, f"more than {most} {counter} SMS to this phone"
    return None


def _draw_on_budgets(deps: Deps, session, message: dict, now: dt.datetime):
    """(queued, None) having drawn one SMS from each budget that applies, or (over_budget, why).

    A budget's counters are read and one of them raised in the caller's transaction: an
    account's is one document (concurrent sends for one account conflict, and the loser counts
    again), the platform's hour is spread over ``shards`` documents so that the platform's
    sends do not all conflict on one (it may then pass its budget by the sends in flight).
    """
    budgets = deps.budgets
    if not budget_rules.budgeted(message["channel"], message["kind"], message.get("budgeted")):
        return store.QUEUED, None
    wanted = []
    who = message.get("budget_account_id") or message.get("account_id")
    if who:
        key, forget = budget_rules.account_bucket(who, now, deps.tz)
        wanted.append((budget_rules.ACCOUNT, key, forget, budgets.per_account_day, 1))
    key, forget = budget_rules.platform_bucket(now)
    wanted.append(
        (budget_rules.PLATFORM, key, forget, budgets.platform_hour, max(1, budgets.shards))
    )
    col = deps.db[store.SMS_BUDGETS]
    for budget, key, _forget, most, _shards in wanted:
        used = sum(d.get("n", 0) for d in col.find({"bucket": key}, {"n": 1}, session=session))
        if not budget_rules.within(used, most):
            _reached(deps, session, budget, key, now, _forget)
            which = "the account's daily" if budget == budget_rules.ACCOUNT else "the hourly"
            return store.OVER_BUDGET, f"{which} SMS budget is spent"
    taken = []
    for _budget, key, forget, _most, shards in wanted:
        counter = f"{key}|{random.randrange(shards)}"  # noqa: S311 - spreading writes, not secrecy
        col.update_one(
            {"_id": counter},
            {"$inc": {"n": 1}, "$setOnInsert": {"bucket": key, "expire_at": forget}},
            upsert=True,
            session=session,
        )
        taken.append(counter)
    message["budget_counters"] = taken
    return store.QUEUED, None


def _reached(deps: Deps, session, budget: str, key: str, now, forget) -> None:
    """The first refusal of a budget's period is reported once: a counter and one log line
    (the budget and, for an account's, the account id: never a phone number)."""
    marker = deps.db[store.SMS_BUDGETS].update_one(
        {"_id": f"{key}|reached"},
        {"$setOnInsert": {"at": now, "expire_at": forget}},
        upsert=True,
        session=session,
    )
    if marker.upserted_id is None:
        return
    BUDGET_REACHED.labels(budget).inc()
    account = key.split("|")[1] if budget == budget_rules.ACCOUNT else None
    log.warning("SMS budget reached", extra={"budget": budget, "account_id": account})


def _give_back(db: Database, session, counters: list[str]) -> None:
    """A message that drew on the budgets and then was not sent (unpaid) gives them back."""
    for counter in counters:
        db[store.SMS_BUDGETS].update_one({"_id": counter}, {"$inc": {"n": -1}}, session=session)

"""sms-notify's own database: every collection, its documents and the indexes that keep its
rules. (The accounts copy, the consumer's inbox and idempotency records are edu_common's.)

A message document (``messages``)::

    _id              our message id (uuid hex), also given to providers
    event_id         the event that asked for it; kind, purpose: what it is about
    channel, to      "email" and an address, or "sms" and an E.164 phone
    language         the language of the text (after any fallback to English)
    subject, body    the text as stored: the code replaced by CODE_MASK
    secret           {"code": ...}: only while the message may still be sent
    status           queued -> sending -> sent -> delivered; sending -> queued to try again;
                     sending -> failed, or sent -> failed on an "undelivered" report (then a
                     dead letter). held: waits for release_at (quiet hours), then is sent.
                     Never sent: suppressed (muted kind or no consent), rejected_limit,
                     no_balance, invalid_recipient, no_recipient, over_budget,
                     refused_destination (reason says why)
    budgeted         True/False when the sender says whether it draws on the SMS budgets
                     (otherwise: every SMS but codes and security); budget_account_id: whose
                     daily budget (else account_id); budget_counters: the counters it took
    segments         SMS parts the text costs (1 for e-mail); encoding GSM-7 | UCS-2
    attempts, next_attempt_at, lease_until, claim, last_error
    provider, provider_id, created_at, updated_at, sent_at, failed_at
    expires_at       after it the content is worthless: it is failed, not sent
    challenge_id, account_id, correlation_id, requested_language: where it came from

The other collections::

    dead_letters         {_id, message_id, event_id, kind, channel, to, account_id, error,
                          attempts, created_at, status open|resent, resent_message_id}
    preferences          {_id: account_id, language, channels, kinds, quiet_hours, consent,
                          consent_at, updated_at}
    recipients           {_id: phone, seq, at}: serialises concurrent limit checks
    sms_budgets          {_id: "<bucket>|<shard>", bucket, n, expire_at}: SMS drawn on a budget
                          ("account|<id>|<local day>", "platform|<UTC hour>"); and
                          {_id: "<bucket>|reached", at}: the budget's one "reached" report
    subscriptions        {_id, account_id, student_iin, student_name, phone, kinds, created_at}:
                          a parent's paid SMS subscriptions (not broker bindings)
    phone_confirmations  {_id, account_id, phone, code_hash, attempts, expires_at, confirmed_at}
    confirmed_phones     {_id: "<account>|<phone>", account_id, phone, confirmed_at}
    journal_grades       {_id: grade_id, student_iin, subject, grade, kind, recorded_at,
                          period (the digest's closing moment), received_at, version}
    digests              {_id: "<subscription>|<period>", status, message_id, at}: one per
                          subscription and period, whatever runs the task or how often
    balances             {_id: account_id, balance (KZT), run_out_notified, run_outs, updated_at}
    balance_ledger       {_id: sortable id, account_id, kind top_up|charge, amount,
                          balance_after, at, ref (top-up id or message id), segments}
    top_ups              {_id: hash(account, Idempotency-Key), account_id, amount, currency,
                          adapter, payment_id, redirect_url, status new|pending|paid|declined,
                          reason, created_at, updated_at, paid_at}: credited only when the
                          payment provider's signed callback says paid (PAYMENTS.md)
    teaching_links       where a child learns, from the events (usecases/teaching.py):
                          {_id: "school|<student iin>", kind school, student_iin, student_name,
                          organization_id (school_id), class_name, teacher_ids (named by the
                          journal), active, version (the newest event's occurred_at)} or
                          {_id: "kindergarten|<application id>", kind kindergarten,
                          parent_account_id, child_iin_masked, child_first_name,
                          organization_id (kindergarten_id), group_id, teacher_ids, active
                          (false once the child left), version}
    conversations        {_id, parent_id, teacher_id, subject, link_id (the teaching link it
                          is about), child_name, created_at, last_message_at,
                          unread: {parent: n, teacher: n}}
    conversation_messages {_id, conversation_id, author_id, author_role, text, attachment,
                          created_at, read_at}
    attachments.files / attachments.chunks   GridFS bucket ``attachments``
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from pymongo.client_session import ClientSession
from pymongo.database import Database

from edu_common.mongo import Index

MESSAGES = "messages"

QUEUED = "queued"
HELD = "held"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
SUPPRESSED = "suppressed"
REJECTED_LIMIT = "rejected_limit"
NO_BALANCE = "no_balance"
INVALID_RECIPIENT = "invalid_recipient"
NO_RECIPIENT = "no_recipient"  # the person has no phone / e-mail for it
OVER_BUDGET = "over_budget"  # the account's daily or the platform's hourly SMS budget is spent
REFUSED_DESTINATION = "refused_destination"  # a phone outside the allowed countries
# Statuses of messages that never left: they do not count against a recipient's limits.
NOT_SENT = (
    SUPPRESSED,
    REJECTED_LIMIT,
    NO_BALANCE,
    INVALID_RECIPIENT,
    NO_RECIPIENT,
    OVER_BUDGET,
    REFUSED_DESTINATION,
)
STATUSES = (QUEUED, HELD, SENDING, SENT, DELIVERED, FAILED, *NOT_SENT)

DEAD_LETTERS = "dead_letters"
PREFERENCES = "preferences"
RECIPIENTS = "recipients"  # one document per phone: serialises concurrent limit checks
SMS_BUDGETS = "sms_budgets"  # counters of the SMS budgets (domain/budgets.py)
SUBSCRIPTIONS = "subscriptions"
PHONE_CONFIRMATIONS = "phone_confirmations"
CONFIRMED_PHONES = "confirmed_phones"
JOURNAL_GRADES = "journal_grades"
DIGESTS = "digests"
BALANCES = "balances"
LEDGER = "balance_ledger"
TOP_UPS = "top_ups"
TEACHING_LINKS = "teaching_links"
CONVERSATIONS = "conversations"
CONVERSATION_MESSAGES = "conversation_messages"
ATTACHMENTS = "attachments"  # a GridFS bucket

# What stored texts show instead of the code. Never a character a template uses itself.
CODE_MASK = "••••••"

_IDENTITY = ("event_id", "to", "channel")

INDEXES = [
    # Exactly one message per (event, recipient, channel), however often the event arrives.
    Index(MESSAGES, [(k, 1) for k in _IDENTITY], unique=True, name="one_message_per_event"),
    Index(MESSAGES, [("status", 1), ("next_attempt_at", 1)], name="messages_due"),
    Index(MESSAGES, [("status", 1), ("lease_until", 1)], name="messages_leased"),
    Index(MESSAGES, [("status", 1), ("release_at", 1)], name="messages_held"),
    Index(MESSAGES, [("status", 1), ("status_check_at", 1)], name="messages_status_due"),
    Index(MESSAGES, [("provider", 1), ("provider_id", 1)], name="messages_by_provider_id"),
    Index(MESSAGES, [("account_id", 1), ("created_at", -1)], name="messages_of_account"),
    Index(MESSAGES, [("to", 1), ("created_at", -1)], name="messages_to"),
    # One dead letter per failed message; a re-send is keyed by the dead letter's id.
    Index(DEAD_LETTERS, [("message_id", 1)], unique=True, name="one_dead_letter_per_message"),
    Index(DEAD_LETTERS, [("created_at", -1)], name="dead_letters_newest"),
    # The per-phone documents only serialise limit checks: gone once no window needs them.
    Index(RECIPIENTS, [("at", 1)], name="recipients_ttl", expire_after_seconds=2 * 86400),
    Index(SMS_BUDGETS, [("bucket", 1)], name="budget_counters"),
    Index(SMS_BUDGETS, [("expire_at", 1)], name="budgets_ttl", expire_after_seconds=0),
    Index(
        SUBSCRIPTIONS,
        [("account_id", 1), ("student_iin", 1), ("phone", 1)],
        unique=True,
        name="one_subscription_per_phone",
    ),
    Index(SUBSCRIPTIONS, [("student_iin", 1), ("kinds", 1)], name="subscribers_of"),
    Index(PHONE_CONFIRMATIONS, [("account_id", 1), ("created_at", -1)], name="conf_by_acc"),
    Index(PHONE_CONFIRMATIONS, [("purge_at", 1)], name="conf_ttl", expire_after_seconds=0),
    Index(JOURNAL_GRADES, [("student_iin", 1), ("period", 1)], name="grades_of_period"),
    Index(DIGESTS, [("period", 1)], name="digests_of_period"),
    Index(LEDGER, [("account_id", 1), ("_id", -1)], name="ledger_by_account"),
    Index(TOP_UPS, [("account_id", 1), ("created_at", -1)], name="top_ups_by_account"),
    Index(
        TEACHING_LINKS,
        [("kind", 1), ("parent_account_id", 1)],
        name="kindergarten_links_of_parent",
    ),
    Index(CONVERSATIONS, [("parent_id", 1), ("_id", -1)], name="conversations_of_parent"),
    Index(CONVERSATIONS, [("teacher_id", 1), ("_id", -1)], name="conversations_of_teacher"),
    Index(
        CONVERSATION_MESSAGES,
        [("conversation_id", 1), ("_id", -1)],
        name="messages_of_conversation",
    ),
]

_sequence = itertools.count()  # orders ids made in the same microsecond by this process


def new_id() -> str:
    return uuid.uuid4().hex


def sortable_id(now: dt.datetime) -> str:
    """An id whose string order is creation order: pages need no second sort key."""
    stamp = f"{now.astimezone(dt.UTC):%Y%m%d%H%M%S%f}"
    return f"{stamp}-{next(_sequence) % 10**10:010d}-{uuid.uuid4().hex[:8]}"


def new_message(
    *,
    event_id: str,
    kind: str,
    purpose: str | None,
    channel: str,
    to: str,
    language: str,
    subject: str | None,
    body: str,
    secret: dict[str, str] | None,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    **extra,
) -> dict:
    return {
        "_id": new_id(),
        "event_id": event_id,
        "kind": kind,
        "purpose": purpose,
        "channel": channel,
        "to": to,
        "language": language,
        "subject": subject,
        "body": body,
        "secret": secret,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "provider": None,
        "provider_id": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
        "expires_at": expires_at,
        **extra,
    }


def insert_once(db: Database, message: dict, session: ClientSession | None = None) -> bool:
    """Store the message unless one exists for its (event, recipient, channel).

    An upsert rather than an insert: a second copy is a no-op, not an error that would abort
    the surrounding transaction. Answers whether this call stored it.
    """
    key = {k: message[k] for k in _IDENTITY}
    rest = {k: v for k, v in message.items() if k not in key}
    result = db[MESSAGES].update_one(key, {"$setOnInsert": rest}, upsert=True, session=session)
    return result.upserted_id is not None


def reveal(text: str | None, secret: dict | None) -> str | None:
    """The text as the recipient must see it: the mask replaced by the code."""
    if text is None or not secret:
        return text
    return text.replace(CODE_MASK, secret["code"])


def find(db: Database, message_id: str) -> dict | None:
    return db[MESSAGES].find_one({"_id": message_id})

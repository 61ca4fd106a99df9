"""From an event to messages: the events other services publish about a person.

Codes have their own handler (their secret is kept apart). Every other event goes through one
generic path driven by ``ROUTES``: event type -> kind, urgency, recipients, template, paid.
Adding an event is one entry (and its templates): its contract in ``events.py`` and e.g.
``Route(events.AP_SUBMITTED, "application", "ap_submitted", parent("applicant_account_id"))``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from edu_common import accounts
from edu_common.consumer import HandlerContext
from edu_common.envelope import Envelope, EventType
from sms_notify import events, store, templates
from sms_notify.deps import Deps
from sms_notify.events import CodeRequested
from sms_notify.usecases import delivery, outgoing, teaching
from sms_notify.usecases.common import payload

log = logging.getLogger(__name__)


def local_time(value: dt.datetime, tz: dt.tzinfo) -> str:
    """A moment as texts show it: the service's local time (``TIMEZONE``)."""
    return value.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def code_message(envelope: Envelope, data: dict, now: dt.datetime, tz: dt.tzinfo) -> dict:
    """The message for a requested code, its text stored with the code masked."""
    expires_at: dt.datetime = data["expires_at"]
    # From the event's own time, so a redelivery renders the very same text.
    minutes = max(1, math.ceil((expires_at - envelope.occurred_at).total_seconds() / 60))
    params = {
        "code": store.CODE_MASK,
        "minutes": minutes,
        "valid_until": local_time(expires_at, tz),
    }
    text = templates.render(data["purpose"], data["channel"], data["language"], params)
    if store.CODE_MASK not in text.body:
        raise templates.TemplateError(f"the {data['purpose']} text does not show the code")
    message = store.new_message(
        event_id=envelope.id,
        kind="code",
        purpose=data["purpose"],
        channel=data["channel"],
        to=data["to"],
        language=text.language,
        subject=text.subject,
        body=text.body,
        secret={"code": data["code"]},
        now=now,
        expires_at=expires_at,
        requested_language=data["language"],
        challenge_id=data["challenge_id"],
        account_id=data["account_id"],
        correlation_id=envelope.correlation_id,
    )
    if expires_at <= now:
        # Arrived too late (a long outage): a dead code is not sent, nor kept.
        del message["secret"], message["next_attempt_at"]
        message.update(status=store.FAILED, failed_at=now, last_error="expired before it arrived")
    return message


def first_attempt(deps: Deps, ctx: HandlerContext, message_ids: list[str]) -> None:
    """A first attempt right after the commit; whatever it leaves behind, the sweep picks up."""

    def attempt():
        for message_id in message_ids:
            delivery.deliver(
                deps.db, deps.channels, message_id, policy=deps.policy, clock=deps.clock
            )

    if message_ids:
        ctx.after_commit(attempt)


def on_code_requested(deps: Deps, envelope: Envelope, ctx: HandlerContext) -> None:
    data = payload(CodeRequested, envelope)
    message = code_message(envelope, data, deps.now(), deps.tz)
    message["urgent"] = True
    if outgoing.admit(deps, ctx.session, message, now=deps.now()) is None:
        log.info("message for this event already stored", extra={"event_id": envelope.id})
        return
    if message["status"] == store.QUEUED:
        first_attempt(deps, ctx, [message["_id"]])


# --- the generic path -----------------------------------------------------------------------


class AccountNotSynced(Exception):
    """The account's copy has not arrived yet: the event is retried (then parked), not lost."""


@dataclass(frozen=True)
class Recipient:
    to: str  # "" when the person has no contact for the channel: stored as no_recipient
    channel: str
    language: str
    account_id: str | None
    # Whose daily SMS budget it draws on when not the recipient's own account's (an escort's
    # SMS: the parent who named the escort).
    budget_account_id: str | None = None
    # Already read while resolving: passed on so enqueue need not read them again.
    prefs: dict | None = field(default=None, compare=False, repr=False)
    account: dict | None = field(default=None, compare=False, repr=False)
    # Another template than the route's for this recipient (a request overdue: the officers').
    template: str | None = None


Resolver = Callable[[Deps, HandlerContext, dict, bool], list[Recipient]]


@dataclass(frozen=True)
class Route:
    event: EventType
    kind: str  # see domain/kinds.py: what preferences mute
    template: str  # templates/<template>.<lang>[.sms].txt
    recipients: Resolver
    urgent: bool = False  # codes and security: never held, never muted, every contact
    paid: bool = False  # paid routes need a charge (the prepaid balance); none of these is
    params: Callable[[dict], dict] | None = None  # extra template values from the payload
    # What else the event tells sms-notify, kept in the same transaction (teaching links).
    keep: Callable[[Deps, object, dict, Envelope], None] | None = None


def language_of(account: dict, prefs: dict) -> str:
    return prefs.get("language") or account.get("language") or "ru"


def contacts(deps: Deps, ctx: HandlerContext, account_id: str, urgent: bool) -> list[Recipient]:
    """The account's phone / e-mail on the channels it chose (urgent: every one it has)."""
    account = deps.db[accounts.ACCOUNTS].find_one({"_id": account_id}, session=ctx.session)
    if account is None:
        raise AccountNotSynced(f"account {account_id} not in the local copy yet")
    prefs = outgoing.preferences_of(deps.db, account_id, ctx.session)
    language = language_of(account, prefs)
    address = {"sms": account.get("phone") or "", "email": account.get("email") or ""}
    if urgent:
        wanted = [c for c in ("sms", "email") if address[c]] or ["sms"]
    else:
        wanted = prefs.get("channels") or (["sms"] if address["sms"] else ["email"])
    return [
        Recipient(address[c], c, language, account_id, prefs=prefs, account=account) for c in wanted
    ]


def parent(field: str = "parent_account_id") -> Resolver:
    return lambda deps, ctx, data, urgent: contacts(deps, ctx, data[field], urgent)


OFFICER_ROLE = "college_officer"


def with_officers(field: str, template: str) -> Resolver:
    """The person in ``field``, and the officers of the event's college (accounts copy: role
    ``college_officer``, ``organization_id`` the event's ``college_id``), who get ``template``.
    """

    def resolve(deps: Deps, ctx: HandlerContext, data: dict, urgent: bool) -> list[Recipient]:
        found = deps.db[accounts.ACCOUNTS].find(
            {
                "roles": OFFICER_ROLE,
                "organization_id": data["college_id"],
                "active": {"$ne": False},
            },
            {"_id": 1},
            session=ctx.session,
        )
        officers = sorted(doc["_id"] for doc in found if doc["_id"] != data[field])
        return [
            *contacts(deps, ctx, data[field], urgent),
            *(
                replace(r, template=template)
                for officer in officers
                for r in contacts(deps, ctx, officer, urgent)
            ),
        ]

    return resolve


def escort(deps: Deps, ctx: HandlerContext, data: dict, urgent: bool) -> list[Recipient]:
    """The escort's own phone (from the event), in the parent's language."""
    account = deps.db[accounts.ACCOUNTS].find_one(
        {"_id": data["parent_account_id"]}, session=ctx.session
    )
    prefs = outgoing.preferences_of(deps.db, data["parent_account_id"], ctx.session)
    language = language_of(account or {}, prefs)
    return [
        Recipient(
            data["escort_phone"], "sms", language, None, budget_account_id=data["parent_account_id"]
        )
    ]


def template_values(data: dict, tz: dt.tzinfo) -> dict:
    """The payload as template values: moments in local time, absent values empty."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dt.datetime):
            value = local_time(value, tz)
        out[key] = "" if value is None else value
    return out


def _words(field: str, texts: dict[str, dict[str, str]]) -> Callable[[dict], dict]:
    """A payload code said in each language: ``$<field>_kk``, ``$<field>_ru``, ``$<field>_en``."""

    def extra(data: dict) -> dict:
        said = texts.get(str(data.get(field)), {})
        return {
            f"{field}_{lang}": said.get(lang, str(data.get(field))) for lang in ("kk", "ru", "en")
        }

    return extra


CLOSED_REASON = {
    "withdrawn": {"kk": "өтініш кері қайтарылды", "ru": "заявление отозвано", "en": "withdrawn"},
    "declined": {
        "kk": "жолдамадан бас тартылды",
        "ru": "отказ от направления",
        "en": "referral declined",
    },
    "enrolled": {"kk": "бала балабақшаға қабылданды", "ru": "ребёнок зачислен", "en": "enrolled"},
    "aged_out": {"kk": "бала жасы асып кетті", "ru": "ребёнок вышел из возраста", "en": "aged out"},
}
LEFT_REASON = {
    "school": {"kk": "мектепке барады", "ru": "идёт в школу", "en": "going to school"},
    "moved": {"kk": "көшіп кетті", "ru": "переезд", "en": "moved away"},
    "parent_request": {
        "kk": "ата-ананың өтініші",
        "ru": "по заявлению родителя",
        "en": "at the parent's request",
    },
    "other": {"kk": "басқа себеп", "ru": "другая причина", "en": "another reason"},
}
DECISION = {
    "confirmed": {"kk": "расталды", "ru": "подтверждена", "en": "confirmed"},
    "rejected": {"kk": "расталмады", "ru": "не подтверждена", "en": "not confirmed"},
}
DIRECTION = {
    "in": {"kk": "балабақшаға келді", "ru": "пришёл(ла) в детский сад", "en": "arrived"},
    "out": {"kk": "балабақшадан кетті", "ru": "ушёл(ла) из детского сада", "en": "left"},
}
STAGE = {
    "confirm": {"kk": "растау", "ru": "подтверждения", "en": "confirmation"},
    "enrol": {"kk": "қабылдау", "ru": "зачисления", "en": "enrolment"},
}

DECLINE_REASON = {  # after the college's name
    "declined": {
        "kk": "орнынан бас тарттыңыз",
        "ru": "вы отказались от места",
        "en": "you declined the seat",
    },
    "lapsed": {
        "kk": "орны жойылды: мерзімінде расталмады",
        "ru": "место аннулировано, зачисление не подтверждено в срок",
        "en": "the seat lapsed, enrolment was not confirmed in time",
    },
}
APPEAL_DECISION = {
    "granted": {"kk": "қанағаттандырылды", "ru": "удовлетворена", "en": "granted"},
    "rejected": {"kk": "қанағаттандырылмады", "ru": "отклонена", "en": "rejected"},
}
REQUEST_TYPE = {
    "enrolment": {"kk": "колледжге қабылдау", "ru": "приём в колледж", "en": "enrolment"},
    "appeal": {"kk": "апелляция", "ru": "апелляция", "en": "appeal"},
    "dormitory": {"kk": "жатақхана", "ru": "общежитие", "en": "dormitory place"},
    "free_meals": {"kk": "тегін тамақ", "ru": "бесплатное питание", "en": "free meals"},
    "academic_leave": {
        "kk": "академиялық демалыс",
        "ru": "академический отпуск",
        "en": "academic leave",
    },
    "return_from_academic_leave": {
        "kk": "академиялық демалыстан оралу",
        "ru": "выход из академического отпуска",
        "en": "return from academic leave",
    },
    "transfer_reinstatement": {
        "kk": "ауыстыру және қалпына келтіру",
        "ru": "перевод и восстановление",
        "en": "transfer and reinstatement",
    },
    "document_duplicate": {
        "kk": "құжат телнұсқасы",
        "ru": "дубликат документа",
        "en": "document duplicate",
    },
    "incomplete_studies_certificate": {
        "kk": "оқуды аяқтамағандарға анықтама",
        "ru": "справка не завершившим обучение",
        "en": "certificate of incomplete studies",
    },
}
REQUEST_STATUS = {
    "submitted": {"kk": "қабылданды", "ru": "подана", "en": "submitted"},
    "in_review": {"kk": "қаралуда", "ru": "на рассмотрении", "en": "in review"},
    "approved": {"kk": "мақұлданды", "ru": "одобрена", "en": "approved"},
    "refused": {"kk": "бас тартылды", "ru": "отказано", "en": "refused"},
    "done": {"kk": "орындалды", "ru": "исполнена", "en": "done"},
}


def _request_words(data: dict) -> dict:
    return {**_words("type", REQUEST_TYPE)(data), **_words("status", REQUEST_STATUS)(data)}


applicant = parent("applicant_account_id")

ROUTES: list[Route] = [
    Route(events.PASSWORD_CHANGED, "security", "password_changed", parent("account_id"), True),
    Route(events.ACCOUNT_LOCKED, "security", "account_locked", parent("account_id"), True),
    Route(events.KG_REGISTERED, "queue", "kg_registered", parent()),
    Route(events.KG_QUEUE_CHANGED, "queue", "kg_queue_changed", parent()),
    Route(
        events.KG_CATEGORY, "queue", "kg_category_decided", parent(),
        params=_words("decision", DECISION),
    ),
    Route(events.KG_CLOSED, "queue", "kg_closed", parent(), params=_words("reason", CLOSED_REASON)),
    Route(events.KG_OFFERED, "referral", "kg_referral_offered", parent()),
    Route(
        events.KG_REMINDER, "referral", "kg_referral_reminder", parent(),
        params=_words("stage", STAGE),
    ),
    Route(events.KG_CONFIRMED, "referral", "kg_referral_confirmed", parent()),
    Route(events.KG_EXTENDED, "referral", "kg_referral_extended", parent()),
    Route(events.KG_EXPIRED, "referral", "kg_referral_expired", parent()),
    Route(events.KG_DECLINED, "referral", "kg_referral_declined", parent()),
    Route(
        events.KG_ENROLLED, "referral", "kg_child_enrolled", parent(),
        keep=teaching.note_enrolled,
    ),
    Route(
        events.KG_LEFT, "referral", "kg_child_left", parent(),
        params=_words("reason", LEFT_REASON), keep=teaching.note_left,
    ),
    Route(events.KG_ESCORT_ADDED, "escort", "kg_escort_added", escort),
    Route(events.KG_ESCORT_REMOVED, "escort", "kg_escort_removed", parent()),
    Route(
        events.KG_ATTENDANCE, "attendance", "kg_attendance_marked", parent(),
        params=_words("direction", DIRECTION),
    ),
    Route(events.AP_SUBMITTED, "application", "ap_submitted", applicant),
    Route(events.AP_DOCUMENTS_RETURNED, "application", "ap_documents_returned", applicant),
    Route(events.AP_ACCEPTED, "application", "ap_accepted", applicant),
    Route(events.AP_ALLOCATED, "application", "ap_allocated", applicant),
    Route(events.AP_NOT_ALLOCATED, "application", "ap_not_allocated", applicant),
    Route(events.AP_ENROLLED, "application", "ap_enrolled", applicant),
    Route(
        events.AP_DECLINED, "application", "ap_declined", applicant,
        params=_words("reason", DECLINE_REASON),
    ),
    Route(events.AP_WITHDRAWN, "application", "ap_withdrawn", applicant),
    Route(
        events.AP_APPEAL_DECIDED, "application", "ap_appeal_decided", applicant,
        params=_words("decision", APPEAL_DECISION),
    ),
    Route(
        events.AP_REQUEST_STATUS, "student_request", "ap_request_status", applicant,
        params=_request_words,
    ),
    Route(
        events.AP_REQUEST_OVERDUE, "student_request", "ap_request_overdue",
        with_officers("applicant_account_id", "ap_request_overdue_officer"),
        params=_request_words,
    ),
]  # fmt: skip
BY_TYPE = {r.event.routing_key: r for r in ROUTES}


def on_event(
    deps: Deps, route: Route, envelope: Envelope, ctx: HandlerContext
) -> list[outgoing.Enqueued]:
    """One message per recipient and channel; the first attempt right after the commit."""
    data = payload(route.event.schema, envelope)
    if route.keep is not None:
        route.keep(deps, ctx.session, data, envelope)
    params = template_values(data, deps.tz)
    if route.params:
        params.update(route.params(data))
    now = deps.now()
    stored = []
    for r in route.recipients(deps, ctx, data, route.urgent):
        result = outgoing.enqueue(
            deps,
            ctx.session,
            event_id=envelope.id,
            kind=route.kind,
            to=r.to,
            channel=r.channel,
            language=r.language,
            template=r.template or route.template,
            params=params,
            account_id=r.account_id,
            urgent=route.urgent,
            now=now,
            prefs=r.prefs,
            account=r.account,
            event_type=envelope.type,
            correlation_id=envelope.correlation_id,
            budget_account_id=r.budget_account_id,
        )
        if result is not None:
            stored.append(result)
    first_attempt(deps, ctx, [s.id for s in stored if s.status == store.QUEUED])
    return stored


def on_consent_changed(envelope: Envelope, ctx: HandlerContext) -> None:
    """Withdrawn consent: only codes and security messages from now on. Newest event wins."""
    data = payload(events.CONSENT_CHANGED.schema, envelope)
    if data["consent"] != "notifications":
        return
    prefs = ctx.db[store.PREFERENCES]
    current = prefs.find_one({"_id": data["account_id"]}, {"consent_at": 1}, session=ctx.session)
    if current and current.get("consent_at") and current["consent_at"] >= envelope.occurred_at:
        return  # an older event arriving late
    prefs.update_one(
        {"_id": data["account_id"]},
        {"$set": {"consent": data["given"], "consent_at": envelope.occurred_at}},
        upsert=True,
        session=ctx.session,
    )

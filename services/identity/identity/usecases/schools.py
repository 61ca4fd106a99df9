"""Parents' accounts made by a school (seed 004): the deputy head (role ``school_admin``, the
organisation is the school) enters pupils' parents one by one or as a CSV file.

Where the source gives every such account the password ``12345``, each gets a random one-time
password by SMS, valid ONE_TIME_PASSWORD_TTL_HOURS, to be changed at first sign-in. Each row is
checked on its own (the IIN known to the population registry, a mobile phone given or linked to
the IIN, an optional e-mail) and created whole or not at all: the account, its SMS, its events
and its audit entry are one transaction. Uploading the same file again creates nobody twice
(one cabinet per IIN): those rows come back as ``already_created``.

An account is ``verified`` when its one-time password goes to a phone the mobile-citizens
database links to the IIN: whoever signs in with it holds that phone. Sent to another phone the
school typed, it is not verified until an operator checks the identity document, or a school
admin could make a verified cabinet in a stranger's name with a phone of their own.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field

from marshmallow import ValidationError, validate
from pymongo.errors import DuplicateKeyError, PyMongoError

from edu_common import mongo, outbox
from edu_common.kz.iin import IINError, mask_iin, parse_iin
from edu_common.registry import RegistryError
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from identity import audit, events, limits, store
from identity.deps import Deps
from identity.domain import roles
from identity.usecases.common import (
    announce_account,
    mask_phone,
    person_from_registry,
    request_code_delivery,
)
from identity.usecases.registration import normalise_phone
from identity.usecases.staff import (
    _account_doc,
    _registered_event,
    one_time_password,
    public_account,
)

log = logging.getLogger(__name__)

LANGUAGES = ("kk", "ru", "en")
COLUMNS = ("iin", "phone", "email", "language")
_EMAIL = validate.Email()


@dataclass
class Row:
    number: int  # the line in the file (the header is line 1); 0 for one account by JSON
    iin: str
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    reasons: list[dict] = field(default_factory=list)

    def refuse(self, where: str, code: str, message: str) -> None:
        self.reasons.append({"field": where, "code": code, "message": message})


def school_of(principal: Principal) -> str:
    if not principal.organization_id:
        raise Problem(403, "forbidden", "Your account belongs to no school.")
    return principal.organization_id


def _check(deps: Deps, row: Row):
    """The row's values made ready, or its reasons filled; answers the registry's person and
    whether the phone is one the mobile-citizens database links to the IIN."""
    try:
        row.iin = parse_iin(row.iin.strip()).value
    except IINError as exc:
        row.refuse("iin", exc.code, str(exc))
    person, linked = None, []
    if not row.reasons:
        try:
            person = deps.registry.find_person(row.iin)
            linked = deps.registry.phones_for(row.iin) if person else []
        except RegistryError:
            row.refuse("iin", "registry_unavailable", "The population registry does not answer.")
        else:
            if person is None:
                row.refuse("iin", "iin_not_in_registry", "The registry has no such person.")
    if row.phone:
        try:
            row.phone = normalise_phone(row.phone)
        except Problem as exc:
            row.refuse("phone", exc.code, exc.detail or exc.code)
    elif linked:
        row.phone = linked[0]
    elif person is not None:
        row.refuse(
            "phone",
            "phone_required",
            "No phone is linked to this IIN in the mobile-citizens database: give one.",
        )
    if row.email:
        row.email = row.email.strip().lower()
        try:
            _EMAIL(row.email)
        except ValidationError:
            row.refuse("email", "email_invalid", "Not an e-mail address.")
    row.email = row.email or None
    row.language = (row.language or "ru").strip().lower()
    if row.language not in LANGUAGES:
        row.refuse("language", "language_invalid", "One of kk, ru, en.")
    return person, row.phone in linked


def _taken(deps: Deps, row: Row, school: str) -> None:
    found = deps.db[store.ACCOUNTS].find_one({"iin": row.iin}, {"created_by_school": 1})
    if found is None:
        if row.email and deps.db[store.ACCOUNTS].find_one({"email": row.email}, {"_id": 1}):
            row.refuse("email", "email_taken", "Another account has this e-mail.")
        return
    if found.get("created_by_school") == school:
        row.refuse("iin", "already_created", "This school has made this parent's account already.")
    else:
        row.refuse("iin", "iin_taken", "A cabinet for this IIN exists already.")


def _create(deps: Deps, actor_id: str, school: str, row: Row, client: str | None):
    """One parent's account, whole or not at all; answers the account or None (row refused)."""
    person, linked = _check(deps, row)
    if row.reasons:
        return None
    _taken(deps, row, school)
    if row.reasons:
        return None
    if not limits.take(deps, "initial_password", limits.sms_to_phone(deps, row.phone), silent=True):
        row.refuse("phone", "code_limit", "Too many SMS to this phone lately; try later.")
        return None
    now = deps.now()
    password = one_time_password()
    expires_at = now + deps.settings.one_time_password_ttl
    verification = {"method": "school", "by": actor_id, "school": school, "at": now}
    account = _account_doc(
        deps,
        iin=row.iin,
        email=row.email,
        phone=row.phone,
        roles=[roles.CITIZEN],
        organization_id=None,
        person=person_from_registry(person),
        origin="staff",
        password_hash=deps.hasher.hash(password),
        must_change=True,
        language=row.language,
        verified=linked,
        one_time_password_expires_at=expires_at,
        verification=verification if linked else None,
        created_by_school=school,
    )

    def work(session):
        deps.db[store.ACCOUNTS].insert_one(store.without_missing_keys(account), session=session)
        request_code_delivery(
            deps,
            session,
            challenge_id=account["_id"],
            purpose="initial_password",
            channel="sms",
            to=row.phone,
            code=password,
            language=row.language,
            expires_at=expires_at,
            account_id=account["_id"],
        )
        outbox.emit(deps.db, session, events.ACCOUNT_REGISTERED, _registered_event(account))
        announce_account(deps, session, account["_id"])
        audit.record(
            deps,
            audit.ACCOUNT_CREATED,
            account_id=account["_id"],
            actor_id=actor_id,
            client=client,
            session=session,
            origin="school",
            school=school,
            verified=linked,
        )

    try:
        mongo.in_transaction(deps.db, work)
    except DuplicateKeyError:  # made meanwhile by another request
        _taken(deps, row, school)
        if not row.reasons:
            row.refuse("iin", "iin_taken", "A cabinet for this IIN exists already.")
        return None
    except PyMongoError:
        # The transaction is undone: nothing of this row stays. The rest of the file goes on,
        # and the report says which rows to send again.
        log.exception("a school's parent account could not be stored", extra={"row": row.number})
        row.refuse("row", "row_failed", "This row could not be stored; send it again.")
        return None
    return account


_STATUS = {"iin_taken": 409, "already_created": 409, "email_taken": 409, "code_limit": 429}


def create_parent(deps: Deps, principal: Principal, data: dict, client: str | None) -> dict:
    """One parent's account (JSON): 201 with the account, or the first reason as a problem."""
    school = school_of(principal)
    row = Row(0, data["iin"], data.get("phone"), data.get("email"), data.get("language"))
    account = _create(deps, principal.account_id, school, row, client)
    if account is None:
        first = row.reasons[0]
        raise Problem(
            _STATUS.get(first["code"], 422),
            first["code"],
            first["message"],
            invalid_params=[{"name": r["field"], "reason": r["message"]} for r in row.reasons],
        )
    return public_account(account) | {"password_sent_to": "sms"}


def _rows(deps: Deps, raw: bytes) -> tuple[list[Row], list[str]]:
    """The file's rows and the columns it has that are not used."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "file_encoding", "Save the file as UTF-8 CSV.", field="file") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise Problem(422, "file_empty", "The file has no header line.", field="file")
    # Spreadsheets in Kazakhstan save CSV with ';' as often as with ','.
    delimiter = max((";", ",", "\t"), key=lines[0].count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        table = [r for r in reader if any(cell.strip() for cell in r)]
    except csv.Error as exc:
        raise Problem(422, "file_malformed", f"Not a CSV file: {exc}", field="file") from None
    if not table:
        raise Problem(422, "file_empty", "The file has no header line.", field="file")
    header = [h.strip().lower() for h in table[0]]
    if "iin" not in header:
        raise Problem(
            422,
            "file_header",
            "The first line must name the columns: iin, phone, email.",
            field="file",
        )
    if len(set(header)) != len(header):
        raise Problem(422, "file_header", "A column is named twice.", field="file")
    body = table[1:]
    most = deps.settings.school_import_max_rows
    if len(body) > most:
        raise Problem(
            422,
            "too_many_rows",
            f"At most {most} rows a file; split it.",
            field="file",
            rows=len(body),
        )
    at = {name: header.index(name) for name in COLUMNS if name in header}
    rows = []
    for number, cells in enumerate(body, start=2):
        value = {n: (cells[i].strip() if i < len(cells) else "") for n, i in at.items()}
        rows.append(
            Row(number, value["iin"], value.get("phone"), value.get("email"), value.get("language"))
        )
    return rows, [h for h in header if h not in COLUMNS]


def import_parents(deps: Deps, principal: Principal, raw: bytes, client: str | None) -> dict:
    """A CSV of parents (columns iin, phone, email, language; header first): each row created
    whole or refused with its reasons."""
    school = school_of(principal)
    rows, ignored = _rows(deps, raw)
    created, refused, seen = [], [], set()
    for row in rows:
        key = row.iin.strip()
        if key in seen:
            row.refuse("iin", "duplicate_in_file", "This IIN is on an earlier line of the file.")
            account = None
        else:
            seen.add(key)
            account = _create(deps, principal.account_id, school, row, client)
        masked = mask_iin(row.iin) if row.iin else None
        if account is None:
            refused.append({"row": row.number, "iin_masked": masked, "reasons": row.reasons})
        else:
            created.append(
                {
                    "row": row.number,
                    "iin_masked": masked,
                    "account_id": account["_id"],
                    "password_sent_to": mask_phone(row.phone),
                    "verified": account["verified"],
                }
            )
    return {"rows": len(rows), "created": created, "refused": refused, "ignored_columns": ignored}

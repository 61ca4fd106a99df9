"""identity's HTTP API: thin handlers that parse, call a use case, and shape the answer."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from edu_common.web import auth, problems
from edu_common.web.problems import Problem
from edu_common.web.views import ServiceViews
from identity import schemas as s
from identity import store
from identity.deps import Deps
from identity.domain import roles
from identity.usecases import consents, passwords, registration, schools, sessions, staff
from identity.usecases.common import is_verified

views: ServiceViews[Deps] = ServiceViews("identity")
deps, once = views.deps, views.once


def client() -> str | None:
    return request.remote_addr


# --- registration ------------------------------------------------------------------------
reg = Blueprint(
    "registration",
    __name__,
    url_prefix="/registrations",
    description="Registration of a personal cabinet in five steps.",
)


@reg.route("")
class Registrations(MethodView):
    @once
    @reg.arguments(s.RegistrationStart)
    @reg.response(201, s.RegistrationView)
    @reg.alt_response(409, description="The e-mail has a cabinet already (code email_taken)")
    @reg.alt_response(429, description="Too many codes from this address (code_limit)")
    def post(self, body):
        """Step 1: give an e-mail; a 6-digit code is sent to it."""
        return registration.start(
            deps(), body["email"], body.get("language") or problems.language(), client()
        )


@reg.route("/<reg_id>")
class RegistrationResource(MethodView):
    @reg.response(200, s.RegistrationView)
    def get(self, reg_id):
        """Review what has been entered so far (step 5 shows this before completing)."""
        return registration.view(registration.load(deps(), reg_id))


@reg.route("/<reg_id>/email/code", methods=["POST"])
@reg.response(202, s.RegistrationView)
def resend_email_code(reg_id):
    """Send a new e-mail code (at most one a minute, five in all)."""
    return registration.resend_code(deps(), reg_id, client())


@reg.route("/<reg_id>/email/confirm", methods=["POST"])
@reg.arguments(s.CodeInput)
@reg.response(200, s.RegistrationView)
def confirm_email(body, reg_id):
    """Step 1 done: the code from the e-mail."""
    return registration.confirm_email(deps(), reg_id, body["code"], client())


@reg.route("/<reg_id>/person", methods=["POST"])
@reg.arguments(s.PersonInput)
@reg.response(200, s.RegistrationView)
@reg.alt_response(422, description="iin_not_in_registry (enter the data by hand if you are "
                  "not a citizen), iin_in_registry (data by hand for an IIN the registry "
                  "knows), iin_proof_unavailable, or a field that is not valid")  # fmt: skip
@reg.alt_response(429, description="too_many_lookups, code_limit")
def set_person(body, reg_id):
    """Step 2: the IIN. For an IIN the population registry knows nothing is shown until it is
    proven (next_step person_confirmation): a code goes at once by SMS to the first phone the
    mobile-citizens database links to it (`proof: sms`, iin_proof.sms_sent_to shows it masked),
    or ask for a nonce to sign (`proof: eds`). Data by hand only for an IIN the registry does
    not know: such a cabinet stays unverified until an operator checks the document."""
    return registration.set_person(deps(), reg_id, body, client())


@reg.route("/<reg_id>/person/code", methods=["POST"])
@reg.arguments(s.PhoneChoice)
@reg.response(202, s.RegistrationView)
def send_person_code(body, reg_id):
    """The IIN proof code again, or to another of the linked phones (one a minute, five in
    all)."""
    return registration.send_person_code(deps(), reg_id, body["phone_index"], client())


@reg.route("/<reg_id>/person/eds-challenge", methods=["POST"])
@reg.response(201, s.EdsChallenge)
def person_eds_challenge(reg_id):
    """A nonce to sign (5 minutes, once) with a certificate whose SERIALNUMBER carries the
    IIN given in step 2."""
    return registration.person_eds_challenge(deps(), reg_id)


@reg.route("/<reg_id>/person/confirm", methods=["POST"])
@reg.arguments(s.PersonConfirm)
@reg.response(200, s.RegistrationView)
@reg.alt_response(409, description="iin_taken: told only now, after the proof")
@reg.alt_response(410, description="The code or the challenge is used up or expired")
@reg.alt_response(422, description="code_wrong, eds_* (the signature), eds_iin_mismatch")
def confirm_person(body, reg_id):
    """Step 2 proven: {code} from the SMS, or {challenge_id, cms} / {challenge_id, certificate,
    signature}. The answer now carries the registry's data."""
    return registration.confirm_person(deps(), reg_id, body, client())


@reg.route("/<reg_id>/contacts", methods=["PUT"])
@reg.arguments(s.ContactsInput)
@reg.response(200, s.RegistrationView)
def set_contacts(body, reg_id):
    """Step 3: the mobile phone. A code goes to it by SMS (next_step contacts_confirmation),
    unless it is the phone the IIN proof code went to: that one is confirmed already
    (phone_confirmed_by: iin_proof)."""
    return registration.set_contacts(deps(), reg_id, body["phone"], client())


@reg.route("/<reg_id>/contacts/code", methods=["POST"])
@reg.response(202, s.RegistrationView)
def send_phone_code(reg_id):
    """The phone's code again (one a minute, five in all)."""
    return registration.send_phone_code(deps(), reg_id, client())


@reg.route("/<reg_id>/contacts/confirm", methods=["POST"])
@reg.arguments(s.CodeInput)
@reg.response(200, s.RegistrationView)
def confirm_phone(body, reg_id):
    """Step 3 done: the code from the SMS."""
    return registration.confirm_phone(deps(), reg_id, body["code"], client())


@reg.route("/<reg_id>/password", methods=["PUT"])
@reg.arguments(s.PasswordInput)
@reg.response(200, s.RegistrationView)
def set_password(body, reg_id):
    """Step 4: the password, twice."""
    return registration.set_password(
        deps(), reg_id, body["password"], body["password_confirmation"]
    )


@reg.route("/<reg_id>/complete", methods=["POST"])
@once
@reg.arguments(s.CompleteInput)
@reg.response(201, s.AccountCreated)
@reg.alt_response(422, description="phone_not_confirmed (next_step contacts_confirmation), "
                  "consent_required")  # fmt: skip
def complete(body, reg_id):
    """Step 5: the consents; the cabinet is created."""
    return registration.complete(deps(), reg_id, body["consents"], client())


# --- sessions ----------------------------------------------------------------------------
ses = Blueprint("sessions", __name__, description="Signing in and out; tokens.")


@ses.route("/sessions", methods=["POST"])
@ses.arguments(s.PasswordLogin)
@ses.response(201, s.TokenPair)
@ses.alt_response(401, description="Wrong IIN or password (invalid_credentials)")
@ses.alt_response(429, description="Too many attempts; see Retry-After")
def login(body):
    """Sign in with IIN and password."""
    return sessions.login_with_password(deps(), body["iin"], body["password"], client())


@ses.route("/otp", methods=["POST"])
@ses.arguments(s.OtpRequest)
@ses.response(202, s.Challenge)
def request_otp(body):
    """Ask for a one-time code by SMS. Always 202 with a challenge: the code is sent only if
    the IIN has a cabinet and the mobile-citizens database links the phone to it, and a wrong
    code fails alike either way."""
    return sessions.request_otp(deps(), body["iin"], body["phone"], client())


@ses.route("/sessions/otp", methods=["POST"])
@ses.arguments(s.OtpLogin)
@ses.response(201, s.TokenPair)
def login_otp(body):
    """Sign in with the one-time code."""
    return sessions.login_with_otp(deps(), body["challenge_id"], body["code"], client())


@ses.route("/eds/challenges", methods=["POST"])
@ses.response(201, s.EdsChallenge)
def eds_challenge():
    """A nonce to sign with the AUTH key of a digital signature (valid 5 minutes, once)."""
    return sessions.eds_challenge(deps())


@ses.route("/sessions/eds", methods=["POST"])
@ses.arguments(s.EdsLogin)
@ses.response(201, s.TokenPair)
@ses.alt_response(401, description="eds_* (the signature or certificate), no_account")
def login_eds(body):
    """Sign in with a digital signature of the nonce: {challenge_id, cms} with the CMS that
    NCALayer's createCAdESFromBase64 returns (base64, attached or detached), or
    {challenge_id, certificate, signature} with the PEM certificate and a base64 RSA-SHA256
    signature over the nonce's UTF-8 bytes."""
    return sessions.login_with_eds(
        deps(),
        body["challenge_id"],
        client(),
        certificate=body.get("certificate"),
        signature=body.get("signature"),
        cms=body.get("cms"),
    )


@ses.route("/sessions/refresh", methods=["POST"])
@ses.arguments(s.RefreshInput)
@ses.response(200, s.TokenPair)
def refresh(body):
    """Exchange a refresh token (single use) for a new pair."""
    return sessions.refresh(deps(), body["refresh_token"], client())


@ses.route("/sessions/current", methods=["DELETE"])
@ses.response(204)
@ses.doc(security=[{"bearer": []}])
@auth.require(allow_password_change=True)
def logout():
    """Sign out of this session."""
    p = auth.current_principal()
    sessions.end_sessions(deps(), p.account_id, reason="logout", only_session=p.session_id)


@ses.route("/sessions", methods=["DELETE"])
@ses.response(204)
@ses.doc(security=[{"bearer": []}])
@auth.require(allow_password_change=True)
def logout_everywhere():
    """Sign out of every session of the account."""
    sessions.end_sessions(deps(), auth.current_principal().account_id, reason="logout_all")


@ses.route("/.well-known/jwks.json", methods=["GET"])
def jwks():
    """The public keys that verify access tokens."""
    return deps().keys.jwks(), 200, {"Cache-Control": "public, max-age=300"}


# --- the account -------------------------------------------------------------------------
me = Blueprint("me", __name__, description="The signed-in person's own account.")


@me.route("/me", methods=["GET"])
@me.response(200, s.Account)
@me.doc(security=[{"bearer": []}])
@auth.require(allow_password_change=True)
def get_me():
    """The account, also while its password must be changed (password_change_required), so
    the cabinet can say whose it is and ask for the change."""
    account = deps().db[store.ACCOUNTS].find_one({"_id": auth.current_principal().account_id})
    if account is None:
        raise Problem(404, "account_not_found")
    required = sessions.password_change_required(deps(), account, deps().now())
    return staff.public_account(account) | {"password_change_required": required}


@me.route("/me/password", methods=["POST"])
@me.arguments(s.PasswordChange)
@me.response(200, s.PasswordChanged)
@me.doc(security=[{"bearer": []}])
@auth.require(allow_password_change=True)
def change_password(body):
    """Change the password; every other session ends."""
    p = auth.current_principal()
    return passwords.change_password(
        deps(),
        p.account_id,
        p.session_id,
        body["current_password"],
        body["new_password"],
        body["new_password_confirmation"],
    )


@me.route("/me/consents", methods=["PUT"])
@me.arguments(s.ConsentsChange)
@me.response(200, s.ConsentsView)
@me.doc(security=[{"bearer": []}])
@auth.require()
def change_consents(body):
    """Give or withdraw consent to notifications by SMS and e-mail (codes and security
    messages still reach you)."""
    return consents.change_notifications(
        deps(), auth.current_principal().account_id, body["notifications"]
    )


rec = Blueprint(
    "recovery",
    __name__,
    url_prefix="/password-resets",
    description="Recovering a forgotten password.",
)


@rec.route("", methods=["POST"])
@once
@rec.arguments(s.ResetStart)
@rec.response(202, s.ResetStarted)
def start_reset(body):
    """Always 202: a code goes to the verified e-mail (or phone, when asked by IIN) if an
    account exists."""
    if bool(body.get("email")) == bool(body.get("iin")):
        raise Problem(422, "validation_failed", "Give either the e-mail or the IIN.", field="email")
    return passwords.start_reset(deps(), body.get("email"), body.get("iin"), client())


@rec.route("/<reset_id>/complete", methods=["POST"])
@rec.arguments(s.ResetComplete)
@rec.response(200, s.PasswordChanged)
def complete_reset(body, reset_id):
    result = passwords.complete_reset(
        deps(),
        reset_id,
        body["code"],
        body["new_password"],
        body["new_password_confirmation"],
        client(),
    )
    return {"changed": True, "other_sessions_ended": result["sessions_ended"]}


# --- administration ----------------------------------------------------------------------
adm = Blueprint("admin", __name__, description="Staff accounts and the audit log (admins).")


@adm.route("/accounts", methods=["POST"])
@auth.require(roles.ADMIN)
@once
@adm.arguments(s.AccountInput)
@adm.response(201, s.Account)
@adm.doc(security=[{"bearer": []}])
def create_account(body):
    """Create a staff (or parent) account; a random one-time password goes to its phone or
    e-mail, never into this answer."""
    return staff.create_account(deps(), auth.current_principal().account_id, body, client())


@adm.route("/accounts/<account_id>", methods=["GET"])
@adm.response(200, s.Account)
@adm.doc(security=[{"bearer": []}])
@auth.require(*roles.VERIFIERS)
def get_account(account_id):
    """An account (admins). A district operator sees only an account awaiting verification,
    to compare its data with the identity document."""
    account = deps().db[store.ACCOUNTS].find_one({"_id": account_id})
    p = auth.current_principal()
    if account is None or (roles.ADMIN not in p.roles and is_verified(account)):
        raise Problem(404, "account_not_found")
    return staff.public_account(account)


@adm.route("/accounts/<account_id>/verification", methods=["POST"])
@auth.require(*roles.VERIFIERS)
@adm.arguments(s.VerificationInput)
@adm.response(200, s.Account)
@adm.doc(security=[{"bearer": []}])
def verify_account(body, account_id):
    """A district operator or an admin has checked the identity document of a person who
    registered with data by hand: the account is verified (audited, announced in
    identity.account.changed.v1). Already verified: answered as it is."""
    return staff.verify_account(
        deps(), auth.current_principal().account_id, account_id, body, client()
    )


@adm.route("/accounts/<account_id>/roles", methods=["PUT"])
@auth.require(roles.ADMIN)
@adm.arguments(s.RolesInput)
@adm.response(200, s.Account)
@adm.doc(security=[{"bearer": []}])
def change_roles(body, account_id):
    """Set an account's roles and organisation (e.g. make a parent a kindergarten's staff)."""
    return staff.change_roles(
        deps(), auth.current_principal().account_id, account_id, body, client()
    )


@adm.route("/audit", methods=["GET"])
@adm.arguments(s.AuditQuery, location="query")
@adm.response(200, s.AuditPage)
@adm.doc(security=[{"bearer": []}])
@auth.require(roles.ADMIN)
def audit_log(query):
    """Security events of one account, newest first, a page at a time."""
    flt = {"account_id": query["account_id"]}
    if query.get("before"):
        flt["at"] = {"$lt": query["before"]}
    items = list(deps().db[store.AUDIT].find(flt).sort("at", -1).limit(query["limit"]))
    next_before = items[-1]["at"] if len(items) == query["limit"] else None
    return {"items": items, "next_before": next_before}


# --- schools ------------------------------------------------------------------------------
sch = Blueprint(
    "schools",
    __name__,
    url_prefix="/schools",
    description="Pupils' parents' accounts made by a school's deputy head (school_admin).",
)
IMPORT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "UTF-8 CSV, ',' or ';' separated, header first: iin "
                            "(required), phone, email, language; other columns are ignored. "
                            "At most SCHOOL_IMPORT_MAX_ROWS (1000) rows.",
                        }
                    },
                }
            }
        },
    }
}


@sch.route("/accounts", methods=["POST"])
@auth.require(roles.SCHOOL_ADMIN)
@once
@sch.arguments(s.SchoolAccountInput)
@sch.response(201, s.Account)
@sch.alt_response(409, description="iin_taken, already_created, email_taken")
@sch.alt_response(422, description="iin_not_in_registry, phone_required, a field not valid")
@sch.doc(security=[{"bearer": []}])
def create_parent(body):
    """A parent's account: a random one-time password goes by SMS (to `phone`, else to the
    phone linked to the IIN), valid 72 hours, changed at first sign-in."""
    return schools.create_parent(deps(), auth.current_principal(), body, client())


@sch.route("/accounts/import", methods=["POST"])
@auth.require(roles.SCHOOL_ADMIN)
@sch.doc(security=[{"bearer": []}], **IMPORT_DOC)
@sch.response(200, s.ImportReport)
@sch.alt_response(415, description="Not multipart/form-data (multipart_required)")
@sch.alt_response(422, description="file_*: the file cannot be read; too_many_rows")
def import_parents():
    """Parents' accounts from a CSV file: each row is created whole (account, SMS, events) or
    refused with its reasons; uploading the same file again creates nobody twice (those rows
    come back as already_created)."""
    if request.mimetype != "multipart/form-data":
        raise Problem(415, "multipart_required", "Send multipart/form-data with a file.")
    files = request.files.getlist("file")
    if len(files) != 1 or len(request.files) != 1 or request.form:
        raise Problem(422, "one_file", "Attach exactly one file, named file.", field="file")
    return schools.import_parents(deps(), auth.current_principal(), files[0].read(), client())


BLUEPRINTS = [reg, ses, me, rec, adm, sch]

"""Attendance corrections (a teacher's marks for earlier days, for the district's operator to
approve) and a kindergarten's audit log."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import BEARER, deps, me, once
from kindergarten.schemas import attendance as attendance_schemas
from kindergarten.schemas import audit as audit_schemas
from kindergarten.schemas import common as common_schemas
from kindergarten.usecases import audit, corrections

blp = Blueprint(
    "attendance_corrections",
    __name__,
    description="A teacher's mark for a day before the correction window waits here until an "
    "operator of the kindergarten's district approves or rejects it; and the audit log of "
    "wrong door codes, locks and corrections.",
)


@blp.route("/attendance-corrections", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.arguments(attendance_schemas.CorrectionArgs, location="query")
@blp.response(200, attendance_schemas.CorrectionPage)
def list_corrections(args):
    """Corrections by status (pending by default), oldest first: a district operator's
    district, a kindergarten's staff their own, or one kindergarten (``kindergarten_id``)."""
    return corrections.list_corrections(deps(), me(), args)


@blp.route("/attendance-corrections/<correction_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.response(200, attendance_schemas.Correction)
def get_correction(correction_id):
    """One correction, for its kindergarten's staff and its district's operators."""
    return corrections.get(deps(), me(), correction_id)


@blp.route("/attendance-corrections/<correction_id>/approve", methods=["POST"])
@blp.doc(security=BEARER)
@auth.require()
@once
@blp.arguments(attendance_schemas.Decision)
@blp.response(200, attendance_schemas.Correction)
@blp.alt_response(
    409,
    description="correction_decided, child_not_enrolled, or the sheet refuses the mark now "
    "(child_already_in, child_not_in, month_approved)",
)
def approve(body, correction_id):
    """An operator of the kindergarten's district approves: the mark is written."""
    return corrections.approve(deps(), me(), correction_id, body.get("reason"), request.remote_addr)


@blp.route("/attendance-corrections/<correction_id>/reject", methods=["POST"])
@blp.doc(security=BEARER)
@auth.require()
@once
@blp.arguments(attendance_schemas.Decision)
@blp.response(200, attendance_schemas.Correction)
@blp.alt_response(409, description="correction_decided")
@blp.alt_response(422, description="decision_reason_required")
def reject(body, correction_id):
    """An operator of the kindergarten's district rejects, saying why."""
    return corrections.reject(deps(), me(), correction_id, body.get("reason"), request.remote_addr)


@blp.route("/kindergartens/<kindergarten_id>/audit", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.arguments(common_schemas.Paging, location="query")
@blp.response(200, audit_schemas.AuditPage)
def audit_log(args, kindergarten_id):
    """The kindergarten's audit log, newest first: wrong door codes, locks, corrections and
    their decisions. Its district's operators and admins."""
    return audit.kindergarten_log(deps(), me(), kindergarten_id, args["limit"], args.get("cursor"))

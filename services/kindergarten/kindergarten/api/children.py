"""An enrolled child: its card, escorts, attendance and leaving. Who may do what is decided in
the use cases (``usecases.enrolment.access``); the decorators here only demand a valid token."""

from __future__ import annotations

from flask import make_response, request
from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import BEARER, deps, me, once
from kindergarten.schemas import attendance as attendance_schemas
from kindergarten.schemas import children as children_schemas
from kindergarten.schemas import common
from kindergarten.schemas import escorts as escort_schemas
from kindergarten.usecases import attendance, enrolment, escorts, leaving

blp = Blueprint(
    "enrolled_children",
    __name__,
    description="An enrolled child: its escorts and attendance. The applying parent manages "
    "escorts and approves months; escorts and the group's teacher mark the child in and out.",
)


@blp.route("/children/<child_iin>", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.response(200, children_schemas.EnrolledChild)
def get_child(child_iin):
    """The enrolled child, for its parent, its escorts and its kindergarten's staff."""
    return enrolment.child_view(deps(), me(), child_iin)


@blp.route("/children/<child_iin>/escorts", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.arguments(common.ChildrenPageArgs, location="query")
@blp.response(200, escort_schemas.EscortPage)
def list_escorts(args, child_iin):
    """Who may bring and collect the child; the applying parent is always one of them."""
    return escorts.list_escorts(deps(), me(), child_iin, args["limit"], args.get("cursor"))


@blp.route("/children/<child_iin>/escorts", methods=["POST"])
@blp.doc(security=BEARER)
@auth.require()
@once
@blp.arguments(escort_schemas.EscortInput)
@blp.response(201, escort_schemas.Escort)
@blp.alt_response(409, description="Already an escort of this child (escort_already_added)")
@blp.alt_response(
    422,
    description="Refused, each with its code: escort_too_young, escort_not_in_registry, "
    "escort_phone_mismatch, escort_name_mismatch, escort_is_kindergarten_staff, "
    "escorts_per_child_limit, children_per_escort_limit, escort_iin_invalid, "
    "escort_is_the_child",
)
def add_escort(body, child_iin):
    """Add an escort (or attach one who escorts another child); they may act at once and get
    an SMS. Only the parent who applied."""
    return escorts.add_escort(deps(), me(), child_iin, body)


@blp.route("/children/<child_iin>/escorts/<escort_iin>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth.require()
@blp.response(204)
def remove_escort(child_iin, escort_iin):
    """Detach an escort from the child. The applying parent cannot be removed."""
    escorts.remove_escort(deps(), me(), child_iin, escort_iin)


@blp.route("/children/<child_iin>/leave", methods=["POST"])
@blp.doc(security=BEARER)
@auth.require()
@once
@blp.arguments(children_schemas.LeaveInput)
@blp.response(204)
def leave(body, child_iin):
    """The kindergarten's staff: the child has left; its escorts are released."""
    leaving.leave(deps(), me(), child_iin, body["reason"])


@blp.route("/children/<child_iin>/attendance", methods=["POST"])
@blp.doc(security=BEARER)
@auth.require()
@once
@blp.arguments(attendance_schemas.MarkInput)
@blp.response(201, attendance_schemas.Mark)
@blp.alt_response(
    202,
    schema=attendance_schemas.Correction,
    description="A teacher's mark for a day before the correction window: a pending "
    "correction for the district's operator",
)
@blp.alt_response(403, description="account_not_verified (an escort's unproven account)")
@blp.alt_response(
    409,
    description="child_already_in, child_not_in, month_approved, attendance_changed",
)
@blp.alt_response(
    422,
    description="door_code_invalid (Retry-After when the next try must wait), mark_in_future, "
    "correction_reason_required",
)
@blp.alt_response(423, description="door_code_locked: too many wrong codes (Retry-After)")
@blp.alt_response(429, description="door_code_delayed: wait before the next code (Retry-After)")
def mark(body, child_iin):
    """Mark the child in or out: an escort with the door's current code, or the group's
    teacher. Wrong codes are limited per account and per child."""
    done = attendance.mark(deps(), me(), child_iin, body, request.remote_addr)
    if done.correction is not None:
        return make_response(attendance_schemas.Correction().dump(done.correction), 202)
    return done.mark


@blp.route("/children/<child_iin>/attendance", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.arguments(attendance_schemas.MonthArgs, location="query")
@blp.response(200, attendance_schemas.Sheet)
def get_sheet(args, child_iin):
    """The month's attendance sheet, day by day, for the parent and the kindergarten."""
    return attendance.sheet(deps(), me(), child_iin, args.get("month"))


@blp.route("/children/<child_iin>/attendance/<month>/approve", methods=["POST"])
@blp.doc(security=BEARER)
@auth.require()
@once
@blp.response(200, attendance_schemas.Sheet)
@blp.alt_response(409, description="month_already_approved")
@blp.alt_response(422, description="month_in_future, month_invalid")
def approve(child_iin, month):
    """The parent approves the month's sheet (the current or a past month); it is final."""
    return attendance.approve(deps(), me(), child_iin, month)


@blp.route("/me/escorted-children", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require()
@blp.arguments(common.ChildrenPageArgs, location="query")
@blp.response(200, escort_schemas.EscortedChildPage)
def escorted_children(args):
    """The children the signed-in person may bring and collect."""
    return escorts.escorted_children(deps(), me(), args["limit"], args.get("cursor"))

"""Escorts, door codes and attendance: HTTP in. Thin handlers: parse, call a use case, shape.

Who may do what is decided in ``usecases.children`` (one place for the rules of access);
the decorators here only demand a valid token.
"""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from edu_common.web import auth
from edu_common.web.idempotency import idempotent
from kindergarten import schemas_children as s
from kindergarten.deps import Deps
from kindergarten.usecases import children

BEARER = [{"bearer": []}]


def deps() -> Deps:
    return current_app.extensions["kindergarten"]


once = idempotent(lambda: deps().db)


def principal():
    return auth.current_principal()


kids = Blueprint(
    "enrolled_children",
    __name__,
    description="An enrolled child: its escorts and attendance. The applying parent manages "
    "escorts and approves months; escorts and the group's teacher mark the child in and out.",
)


@kids.route("/children/<child_iin>", methods=["GET"])
@kids.doc(security=BEARER)
@auth.require()
@kids.response(200, s.EnrolledChild)
def get_child(child_iin):
    """The enrolled child, for its parent, its escorts and its kindergarten's staff."""
    return children.child_view(deps(), principal(), child_iin)


@kids.route("/children/<child_iin>/escorts", methods=["GET"])
@kids.doc(security=BEARER)
@auth.require()
@kids.arguments(s.ChildrenPageArgs, location="query")
@kids.response(200, s.EscortPage)
def list_escorts(args, child_iin):
    """Who may bring and collect the child; the applying parent is always one of them."""
    return children.list_escorts(deps(), principal(), child_iin, args["limit"], args.get("cursor"))


@kids.route("/children/<child_iin>/escorts", methods=["POST"])
@kids.doc(security=BEARER)
@auth.require()
@once
@kids.arguments(s.EscortInput)
@kids.response(201, s.Escort)
@kids.alt_response(409, description="Already an escort of this child (escort_already_added)")
@kids.alt_response(
    422,
    description="Refused, each with its code: escort_too_young, escort_not_in_registry, "
    "escort_phone_mismatch, escort_name_mismatch, escort_is_kindergarten_staff, "
    "escorts_per_child_limit, children_per_escort_limit, escort_iin_invalid, "
    "escort_is_the_child",
)
def add_escort(body, child_iin):
    """Add an escort (or attach one who escorts another child); they may act at once and get
    an SMS. Only the parent who applied."""
    return children.add_escort(deps(), principal(), child_iin, body)


@kids.route("/children/<child_iin>/escorts/<escort_iin>", methods=["DELETE"])
@kids.doc(security=BEARER)
@auth.require()
@kids.response(204)
def remove_escort(child_iin, escort_iin):
    """Detach an escort from the child. The applying parent cannot be removed."""
    children.remove_escort(deps(), principal(), child_iin, escort_iin)


@kids.route("/children/<child_iin>/leave", methods=["POST"])
@kids.doc(security=BEARER)
@auth.require()
@once
@kids.arguments(s.LeaveInput)
@kids.response(204)
def leave(body, child_iin):
    """The kindergarten's staff: the child has left; its escorts are released."""
    children.leave(deps(), principal(), child_iin, body["reason"])


@kids.route("/children/<child_iin>/attendance", methods=["POST"])
@kids.doc(security=BEARER)
@auth.require()
@once
@kids.arguments(s.MarkInput)
@kids.response(201, s.Mark)
@kids.alt_response(
    409,
    description="child_already_in, child_not_in, month_approved, attendance_changed",
)
@kids.alt_response(422, description="door_code_invalid, mark_in_future")
def mark(body, child_iin):
    """Mark the child in or out: an escort with the door's current code, or the group's
    teacher."""
    return children.mark(deps(), principal(), child_iin, body)


@kids.route("/children/<child_iin>/attendance", methods=["GET"])
@kids.doc(security=BEARER)
@auth.require()
@kids.arguments(s.MonthArgs, location="query")
@kids.response(200, s.Sheet)
def get_sheet(args, child_iin):
    """The month's attendance sheet, day by day, for the parent and the kindergarten."""
    return children.sheet(deps(), principal(), child_iin, args.get("month"))


@kids.route("/children/<child_iin>/attendance/<month>/approve", methods=["POST"])
@kids.doc(security=BEARER)
@auth.require()
@once
@kids.response(200, s.Sheet)
@kids.alt_response(409, description="month_already_approved")
@kids.alt_response(422, description="month_in_future, month_invalid")
def approve(child_iin, month):
    """The parent approves the month's sheet (the current or a past month); it is final."""
    return children.approve(deps(), principal(), child_iin, month)


@kids.route("/me/escorted-children", methods=["GET"])
@kids.doc(security=BEARER)
@auth.require()
@kids.arguments(s.ChildrenPageArgs, location="query")
@kids.response(200, s.EscortedChildPage)
def escorted_children(args):
    """The children the signed-in person may bring and collect."""
    return children.escorted_children(deps(), principal(), args["limit"], args.get("cursor"))


door = Blueprint(
    "kindergarten_door",
    __name__,
    description="The rotating code at a kindergarten's door, and its day of marks.",
)


@door.route("/kindergartens/<kindergarten_id>/door-code", methods=["GET"])
@door.doc(security=BEARER)
@auth.require(children.STAFF_ROLE)
@door.response(200, s.DoorCode)
def door_code(kindergarten_id):
    """The door's current code for the head's screen (shown as a QR of ``payload``); it
    changes every 30 seconds (setting). Only this kindergarten's staff."""
    return children.door_code(deps(), principal(), kindergarten_id)


@door.route("/kindergartens/<kindergarten_id>/attendance", methods=["GET"])
@door.doc(security=BEARER)
@auth.require(children.STAFF_ROLE)
@door.arguments(s.DayArgs, location="query")
@door.response(200, s.KindergartenDay)
def kindergarten_day(args, kindergarten_id):
    """A day's marks at the kindergarten, in order: for its staff."""
    day = args.get("day")
    return children.kindergarten_day(
        deps(),
        principal(),
        kindergarten_id,
        day.isoformat() if day else None,
        args["limit"],
        args.get("cursor"),
    )


BLUEPRINTS = [kids, door]

"""A kindergarten's door: its rotating code and its day of marks, for its staff."""

from __future__ import annotations

from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import BEARER, deps, me
from kindergarten.schemas import attendance as attendance_schemas
from kindergarten.schemas import door as door_schemas
from kindergarten.usecases import attendance, common, door

blp = Blueprint(
    "kindergarten_door",
    __name__,
    description="The rotating code at a kindergarten's door, and its day of marks.",
)


@blp.route("/kindergartens/<kindergarten_id>/door-code", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require(common.STAFF)
@blp.response(200, door_schemas.DoorCode)
def door_code(kindergarten_id):
    """The door's current code for the head's screen (shown as a QR of ``payload``); it
    changes every 30 seconds (setting). Only this kindergarten's staff."""
    return door.door_code(deps(), me(), kindergarten_id)


@blp.route("/kindergartens/<kindergarten_id>/attendance", methods=["GET"])
@blp.doc(security=BEARER)
@auth.require(common.STAFF)
@blp.arguments(attendance_schemas.DayArgs, location="query")
@blp.response(200, attendance_schemas.KindergartenDay)
def kindergarten_day(args, kindergarten_id):
    """A day's marks at the kindergarten, in order: for its staff."""
    day = args.get("day")
    return attendance.kindergarten_day(
        deps(),
        me(),
        kindergarten_id,
        day.isoformat() if day else None,
        args["limit"],
        args.get("cursor"),
    )

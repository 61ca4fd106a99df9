"""The kindergarten's door code: a rotating code the head's screen shows as a QR, which an
escort's phone sends with a mark (domain/attendance.py)."""

from __future__ import annotations

from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.domain import attendance as att
from kindergarten.usecases import common


def door_code(deps: Deps, principal: Principal, kindergarten_id: str) -> dict:
    """The code the head's screen shows at the door, as a QR; only the kindergarten's staff."""
    if not common.is_staff_of(principal, kindergarten_id):
        raise common.forbidden("Only this kindergarten's staff see its door code.")
    if deps.db[store.KINDERGARTENS].find_one({"_id": kindergarten_id}, {"_id": 1}) is None:
        raise Problem(404, "kindergarten_not_found", "No such kindergarten.")
    s = deps.settings
    code = att.current_code(
        s.door_code_secret.encode(), kindergarten_id, deps.now(), s.door_code_seconds
    )
    return {
        "kindergarten_id": kindergarten_id,
        "code": code.code,
        "payload": code.payload,
        "valid_from": code.valid_from,
        "valid_until": code.valid_until,
        "refresh_seconds": s.door_code_seconds,
    }

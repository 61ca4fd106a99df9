"""Referrals: reading, confirming, declining, extending, enrolling."""

from __future__ import annotations

from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import deps, me, once
from kindergarten.schemas import referrals as schemas
from kindergarten.usecases import referrals

blp = Blueprint("referrals", __name__, url_prefix="/referrals", description="Referrals.")


@blp.route("")
@auth.require()
@blp.arguments(schemas.ReferralQuery, location="query")
@blp.response(200, schemas.ReferralPage)
def list_referrals(args):
    """My referrals (or, for staff, their kindergarten's)."""
    return referrals.list_for(deps(), me(), args)


@blp.route("/<ref_id>")
@auth.require()
@blp.response(200, schemas.Referral)
def get_referral(ref_id):
    """One referral."""
    return referrals.get(deps(), me(), ref_id)


@blp.route("/<ref_id>/confirm", methods=["POST"])
@auth.require()
@once
@blp.response(200, schemas.Referral)
def confirm(ref_id):
    """The parent confirms within 2 business days."""
    return referrals.confirm(deps(), me(), ref_id)


@blp.route("/<ref_id>/decline", methods=["POST"])
@auth.require()
@once
@blp.response(200, schemas.Referral)
def decline(ref_id):
    """The parent declines: the child leaves the queue."""
    return referrals.decline(deps(), me(), ref_id)


@blp.route("/<ref_id>/extend", methods=["POST"])
@auth.require()
@once
@blp.arguments(schemas.ExtendInput)
@blp.response(200, schemas.Referral)
def extend(body, ref_id):
    """Extend the time to enrol, once, by up to 30 calendar days."""
    return referrals.extend(deps(), me(), ref_id, body["days"])


@blp.route("/<ref_id>/enroll", methods=["POST"])
@auth.require()
@once
@blp.response(200, schemas.Referral)
def enroll(ref_id):
    """The kindergarten's staff enrol the child: it leaves the queue."""
    return referrals.enroll(deps(), me(), ref_id)

"""Open places and claims."""

from __future__ import annotations

from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import deps, me, once
from kindergarten.schemas import places as schemas
from kindergarten.schemas import referrals as referral_schemas
from kindergarten.usecases import places

blp = Blueprint("places", __name__, url_prefix="/places", description="Open places.")


@blp.route("")
@auth.require()
@blp.arguments(schemas.PlaceQuery, location="query")
@blp.response(200, schemas.PlacePage)
def list_open(args):
    """Places not taken through the queue within a day: any queued child may claim them."""
    return places.list_open(deps(), me(), args)


@blp.route("/<place_id>/claim", methods=["POST"])
@auth.require()
@once
@blp.arguments(schemas.ClaimInput)
@blp.response(201, referral_schemas.Referral)
def claim(body, place_id):
    """Claim an open place for my queued child: a confirmed referral."""
    return places.claim(deps(), me(), place_id, body["application_id"])

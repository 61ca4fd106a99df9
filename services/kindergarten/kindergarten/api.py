"""kindergarten's HTTP API: thin handlers that parse, check who is asking, call a use case."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from edu_common.web import auth
from edu_common.web.idempotency import idempotent
from kindergarten import schemas as s
from kindergarten.deps import Deps
from kindergarten.usecases import applications, catalogue, places, referrals


def deps() -> Deps:
    return current_app.extensions["kindergarten"]


once = idempotent(lambda: deps().db)
me = auth.current_principal

# --- catalogue ----------------------------------------------------------------------------
cat = Blueprint(
    "catalogue", __name__, url_prefix="", description="Districts, kindergartens and groups."
)


@cat.route("/districts")
class Districts(MethodView):
    # The catalogue is public: a parent looks for a kindergarten before signing in.
    @cat.arguments(s.Paging, location="query")
    @cat.response(200, s.DistrictPage)
    def get(self, args):
        """The districts."""
        return catalogue.list_districts(deps(), args)

    @auth.require("admin")
    @once
    @cat.arguments(s.DistrictInput)
    @cat.response(201, s.District)
    def post(self, body):
        """Admins: a new district."""
        return catalogue.create_district(deps(), me(), body)


@cat.route("/kindergartens")
class Kindergartens(MethodView):
    @cat.arguments(s.KindergartenQuery, location="query")
    @cat.response(200, s.KindergartenPage)
    def get(self, args):
        """Kindergartens, by district and language."""
        return catalogue.list_kindergartens(deps(), args)

    @auth.require("admin", "district_operator")
    @once
    @cat.arguments(s.KindergartenInput)
    @cat.response(201, s.Kindergarten)
    def post(self, body):
        """Admins and the district's operators: a new kindergarten."""
        return catalogue.create_kindergarten(deps(), me(), body)


@cat.route("/kindergartens/<kg_id>")
@cat.response(200, s.KindergartenDetail)
def get_kindergarten(kg_id):
    """A kindergarten with its groups and open places."""
    return catalogue.get_kindergarten(deps(), kg_id)


@cat.route("/kindergartens/<kg_id>/groups", methods=["POST"])
@auth.require()
@once
@cat.arguments(s.GroupInput)
@cat.response(201, s.Group)
def create_group(body, kg_id):
    """The kindergarten's staff and its district's operators: a new group."""
    return catalogue.create_group(deps(), me(), kg_id, body)


@cat.route("/kindergartens/<kg_id>/groups/<group_id>", methods=["PATCH"])
@auth.require()
@cat.arguments(s.GroupPatch)
@cat.response(200, s.Group)
def update_group(body, kg_id, group_id):
    """Rename a group, change its capacity or its teachers."""
    return catalogue.update_group(deps(), me(), kg_id, group_id, body)


@cat.route("/kindergartens/<kg_id>/staff")
@auth.require()
@cat.response(200, s.StaffMember(many=True))
def list_staff(kg_id):
    """The kindergarten's staff accounts, as identity announced them."""
    return catalogue.staff(deps(), me(), kg_id)


@cat.route("/kindergartens/<kg_id>/groups/<group_id>/places", methods=["POST"])
@auth.require()
@once
@cat.arguments(s.PlacesInput)
@cat.response(201, s.Published)
def publish_places(body, kg_id, group_id):
    """Staff: publish places; each is offered at once to the first in line."""
    return places.publish(deps(), me(), kg_id, group_id, body["count"])


# --- queue --------------------------------------------------------------------------------
apps = Blueprint("applications", __name__, url_prefix="/applications", description="The queue.")


@apps.route("")
class Applications(MethodView):
    @auth.require()
    @apps.arguments(s.ApplicationQuery, location="query")
    @apps.response(200, s.ApplicationPage)
    def get(self, args):
        """My applications (or, for a district operator, the district's)."""
        return applications.list_for(deps(), me(), args)

    @auth.require()
    @once
    @apps.arguments(s.ApplicationInput)
    @apps.response(201, s.Application)
    def post(self, body):
        """Put my child in the queue."""
        return applications.register(deps(), me(), body)


@apps.route("/<app_id>")
class ApplicationResource(MethodView):
    @auth.require()
    @apps.response(200, s.Application)
    def get(self, app_id):
        """One application with its current queue number."""
        return applications.get(deps(), me(), app_id)

    @auth.require()
    @apps.response(200, s.Application)
    def delete(self, app_id):
        """Withdraw: the child leaves the queue."""
        return applications.withdraw(deps(), me(), app_id)


@apps.route("/<app_id>/category-decision", methods=["POST"])
@auth.require("district_operator", "admin")
@once
@apps.arguments(s.CategoryDecisionInput)
@apps.response(200, s.Application)
def category_decision(body, app_id):
    """The district operator confirms or rejects the priority/extraordinary category."""
    return applications.decide_category(deps(), me(), app_id, body)


# --- places and referrals -----------------------------------------------------------------
plc = Blueprint("places", __name__, url_prefix="/places", description="Open places.")


@plc.route("")
@auth.require()
@plc.arguments(s.PlaceQuery, location="query")
@plc.response(200, s.PlacePage)
def list_open(args):
    """Places not taken through the queue within a day: any queued child may claim them."""
    return places.list_open(deps(), me(), args)


@plc.route("/<place_id>/claim", methods=["POST"])
@auth.require()
@once
@plc.arguments(s.ClaimInput)
@plc.response(201, s.Referral)
def claim(body, place_id):
    """Claim an open place for my queued child: a confirmed referral."""
    return places.claim(deps(), me(), place_id, body["application_id"])


refs = Blueprint("referrals", __name__, url_prefix="/referrals", description="Referrals.")


@refs.route("")
@auth.require()
@refs.arguments(s.ReferralQuery, location="query")
@refs.response(200, s.ReferralPage)
def list_referrals(args):
    """My referrals (or, for staff, their kindergarten's)."""
    return referrals.list_for(deps(), me(), args)


@refs.route("/<ref_id>")
@auth.require()
@refs.response(200, s.Referral)
def get_referral(ref_id):
    """One referral."""
    return referrals.get(deps(), me(), ref_id)


@refs.route("/<ref_id>/confirm", methods=["POST"])
@auth.require()
@once
@refs.response(200, s.Referral)
def confirm(ref_id):
    """The parent confirms within 2 business days."""
    return referrals.confirm(deps(), me(), ref_id)


@refs.route("/<ref_id>/decline", methods=["POST"])
@auth.require()
@once
@refs.response(200, s.Referral)
def decline(ref_id):
    """The parent declines: the child leaves the queue."""
    return referrals.decline(deps(), me(), ref_id)


@refs.route("/<ref_id>/extend", methods=["POST"])
@auth.require()
@once
@refs.arguments(s.ExtendInput)
@refs.response(200, s.Referral)
def extend(body, ref_id):
    """Extend the time to enrol, once, by up to 30 calendar days."""
    return referrals.extend(deps(), me(), ref_id, body["days"])


@refs.route("/<ref_id>/enroll", methods=["POST"])
@auth.require()
@once
@refs.response(200, s.Referral)
def enroll(ref_id):
    """The kindergarten's staff enrol the child: it leaves the queue."""
    return referrals.enroll(deps(), me(), ref_id)


BLUEPRINTS = [cat, apps, plc, refs]

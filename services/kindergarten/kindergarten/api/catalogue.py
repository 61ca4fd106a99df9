"""The catalogue: districts, kindergartens, groups, staff; publishing a group's places."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import deps, me, once
from kindergarten.schemas import catalogue as schemas
from kindergarten.schemas import common
from kindergarten.schemas import places as place_schemas
from kindergarten.usecases import catalogue, places

blp = Blueprint(
    "catalogue", __name__, url_prefix="", description="Districts, kindergartens and groups."
)


@blp.route("/districts")
class Districts(MethodView):
    # The catalogue is public: a parent looks for a kindergarten before signing in.
    @blp.arguments(common.Paging, location="query")
    @blp.response(200, schemas.DistrictPage)
    def get(self, args):
        """The districts."""
        return catalogue.list_districts(deps(), args)

    @auth.require("admin")
    @once
    @blp.arguments(schemas.DistrictInput)
    @blp.response(201, schemas.District)
    def post(self, body):
        """Admins: a new district."""
        return catalogue.create_district(deps(), me(), body)


@blp.route("/kindergartens")
class Kindergartens(MethodView):
    @blp.arguments(schemas.KindergartenQuery, location="query")
    @blp.response(200, schemas.KindergartenPage)
    def get(self, args):
        """Kindergartens, by district and language."""
        return catalogue.list_kindergartens(deps(), args)

    @auth.require("admin", "district_operator")
    @once
    @blp.arguments(schemas.KindergartenInput)
    @blp.response(201, schemas.Kindergarten)
    def post(self, body):
        """Admins and the district's operators: a new kindergarten."""
        return catalogue.create_kindergarten(deps(), me(), body)


@blp.route("/kindergartens/<kg_id>")
@blp.response(200, schemas.KindergartenDetail)
def get_kindergarten(kg_id):
    """A kindergarten with its groups and open places."""
    return catalogue.get_kindergarten(deps(), kg_id)


@blp.route("/kindergartens/<kg_id>/groups", methods=["POST"])
@auth.require()
@once
@blp.arguments(schemas.GroupInput)
@blp.response(201, schemas.Group)
def create_group(body, kg_id):
    """The kindergarten's staff and its district's operators: a new group."""
    return catalogue.create_group(deps(), me(), kg_id, body)


@blp.route("/kindergartens/<kg_id>/groups/<group_id>", methods=["PATCH"])
@auth.require()
@blp.arguments(schemas.GroupPatch)
@blp.response(200, schemas.Group)
def update_group(body, kg_id, group_id):
    """Rename a group, change its capacity or its teachers."""
    return catalogue.update_group(deps(), me(), kg_id, group_id, body)


@blp.route("/kindergartens/<kg_id>/staff")
@auth.require()
@blp.response(200, schemas.StaffMember(many=True))
def list_staff(kg_id):
    """The kindergarten's staff accounts, as identity announced them."""
    return catalogue.staff(deps(), me(), kg_id)


@blp.route("/kindergartens/<kg_id>/groups/<group_id>/places", methods=["POST"])
@auth.require()
@once
@blp.arguments(place_schemas.PlacesInput)
@blp.response(201, place_schemas.Published)
def publish_places(body, kg_id, group_id):
    """Staff: publish places; each is offered at once to the first in line."""
    return places.publish(deps(), me(), kg_id, group_id, body["count"])

"""The queue: applying, one's applications, withdrawing, category decisions."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from edu_common.web import auth
from kindergarten.api.web import deps, me, once
from kindergarten.schemas import applications as schemas
from kindergarten.usecases import applications

blp = Blueprint("applications", __name__, url_prefix="/applications", description="The queue.")


@blp.route("")
class Applications(MethodView):
    @auth.require()
    @blp.arguments(schemas.ApplicationQuery, location="query")
    @blp.response(200, schemas.ApplicationPage)
    def get(self, args):
        """My applications (or, for a district operator, the district's)."""
        return applications.list_for(deps(), me(), args)

    @auth.require()
    @once
    @blp.arguments(schemas.ApplicationInput)
    @blp.response(201, schemas.Application)
    def post(self, body):
        """Put my child in the queue."""
        return applications.register(deps(), me(), body)


@blp.route("/<app_id>")
class ApplicationResource(MethodView):
    @auth.require()
    @blp.response(200, schemas.Application)
    def get(self, app_id):
        """One application with its current queue number."""
        return applications.get(deps(), me(), app_id)

    @auth.require()
    @blp.response(200, schemas.Application)
    def delete(self, app_id):
        """Withdraw: the child leaves the queue."""
        return applications.withdraw(deps(), me(), app_id)


@blp.route("/<app_id>/category-decision", methods=["POST"])
@auth.require("district_operator", "admin")
@once
@blp.arguments(schemas.CategoryDecisionInput)
@blp.response(200, schemas.Application)
def category_decision(body, app_id):
    """The district operator confirms or rejects the priority/extraordinary category."""
    return applications.decide_category(deps(), me(), app_id, body)

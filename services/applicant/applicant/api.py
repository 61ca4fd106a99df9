"""applicant's HTTP API: thin handlers that parse, check who is asking, call a use case."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from applicant import schemas as s
from applicant.deps import Deps
from applicant.domain import lifecycle as lc
from applicant.domain.quotas import CATEGORIES
from applicant.usecases import (
    allocation,
    appeals,
    applications,
    campaigns,
    catalogue,
    documents,
    enrolment,
    requests,
)
from edu_common.config import env_int
from edu_common.files import Upload
from edu_common.web import auth
from edu_common.web.app import body_limit
from edu_common.web.problems import Problem
from edu_common.web.views import ServiceViews

# One document per upload: its limit (the same variable as the setting) and the multipart envelope.
UPLOAD_BODY = env_int("APPLICANT_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024) + 256 * 1024


views: ServiceViews[Deps] = ServiceViews("applicant")
deps, once, me = views.deps, views.once, views.me


def _file_response(found: tuple[str, str, bytes]) -> Response:
    name, content_type, data = found
    resp = Response(data, mimetype=content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


def _upload(extra: dict) -> tuple[dict, Upload]:
    """multipart/form-data with one ``file`` and the form fields named in ``extra``."""
    if request.mimetype != "multipart/form-data":
        raise Problem(415, "multipart_required", "Send multipart/form-data with a file.")
    files = request.files.getlist("file")
    if len(files) != 1 or len(request.files) != 1:
        raise Problem(422, "one_file", "Attach exactly one file, named file.", field="file")
    form = {k: v for k, v in request.form.items() if k in extra}
    unknown = [k for k in request.form if k not in extra]
    if unknown:
        name = str(unknown[0] or "")[:100] or "form"
        raise Problem(422, "validation_failed", "Unknown form field.", field=name)
    f = files[0]
    return form, Upload(f.filename or "file", f.mimetype or "", f.read())


def _form_doc(props: dict, required: list[str]) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", *required],
                        "properties": {
                            **props,
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "PDF, JPEG or PNG, checked by content; size "
                                "limit APPLICANT_DOCUMENT_MAX_BYTES (5 MiB)",
                            },
                        },
                    }
                }
            },
        }
    }


# --- catalogue ----------------------------------------------------------------------------
cat = Blueprint("catalogue", __name__, url_prefix="", description="Regions and colleges.")


@cat.route("/regions")
class Regions(MethodView):
    @cat.arguments(s.Paging, location="query")
    @cat.response(200, s.RegionPage)
    def get(self, args):
        """The regions (public)."""
        return catalogue.list_regions(deps(), args)

    @auth.require("admin")
    @once
    @cat.arguments(s.RegionInput)
    @cat.response(201, s.Region)
    def post(self, body):
        """Admins: a new region."""
        return catalogue.create_region(deps(), me(), body)


@cat.route("/colleges")
class Colleges(MethodView):
    @cat.arguments(s.CollegeQuery, location="query")
    @cat.response(200, s.CollegePage)
    def get(self, args):
        """Colleges by region, name (q), language of study or specialty code (public)."""
        return catalogue.list_colleges(deps(), args)

    @auth.require("admin", "college_officer")
    @once
    @cat.arguments(s.CollegeInput)
    @cat.response(201, s.CollegeDetail)
    def post(self, body):
        """Admins and the region's officers: a new college."""
        return catalogue.create_college(deps(), me(), body)


@cat.route("/colleges/<college_id>")
class CollegeResource(MethodView):
    @cat.response(200, s.CollegeDetail)
    def get(self, college_id):
        """A college with its specialties (public)."""
        return catalogue.get_college(deps(), college_id)

    @auth.require("admin", "college_officer")
    @cat.arguments(s.CollegePatch)
    @cat.response(200, s.CollegeDetail)
    def patch(self, body, college_id):
        """Its officers, its region's, admins: names, address, languages."""
        return catalogue.update_college(deps(), me(), college_id, body)


@cat.route("/colleges/<college_id>/specialties/<code>")
class SpecialtyResource(MethodView):
    @auth.require("admin", "college_officer")
    @cat.arguments(s.SpecialtyInput)
    @cat.response(200, s.Specialty)
    def put(self, body, college_id, code):
        """Add or replace a specialty (state classifier code, e.g. 0101000)."""
        if not code.isascii() or not code.isdigit() or len(code) != 7:
            raise Problem(422, "code_invalid", "A classifier code is 7 digits.", field="code")
        return catalogue.put_specialty(deps(), me(), college_id, code, body)

    @auth.require("admin", "college_officer")
    @cat.response(204)
    def delete(self, college_id, code):
        """Remove a specialty no campaign offers."""
        catalogue.delete_specialty(deps(), me(), college_id, code)


@cat.route("/colleges/<college_id>/students")
@auth.require("admin", "college_officer")
@cat.arguments(s.Paging, location="query")
@cat.response(200, s.StudentPage)
def college_students(args, college_id):
    """The college's officers: its students (enrolled through admission)."""
    return requests.list_students(deps(), me(), college_id, args)


# --- campaigns and offers -----------------------------------------------------------------
camp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                 description="Admission campaigns, their places and allocation waves.")  # fmt: skip


@camp.route("")
class Campaigns(MethodView):
    @camp.arguments(s.CampaignQuery, location="query")
    @camp.response(200, s.CampaignPage)
    def get(self, args):
        """Campaigns by region and year (public)."""
        return campaigns.list_campaigns(deps(), args)

    @auth.require("admin", "college_officer")
    @once
    @camp.arguments(s.CampaignInput)
    @camp.response(201, s.Campaign)
    def post(self, body):
        """Admins and the region's officers: a campaign for a year, with its tracks' dates."""
        return campaigns.create_campaign(deps(), me(), body)


@camp.route("/<campaign_id>")
class CampaignResource(MethodView):
    @camp.response(200, s.Campaign)
    def get(self, campaign_id):
        """A campaign, whether each track is open now (Almaty time) (public)."""
        return campaigns.get_campaign(deps(), campaign_id)

    @auth.require("admin", "college_officer")
    @camp.arguments(s.CampaignPatch)
    @camp.response(200, s.Campaign)
    def patch(self, body, campaign_id):
        """Move the tracks' dates, e.g. an early close."""
        return campaigns.update_campaign(deps(), me(), campaign_id, body)


@camp.route("/<campaign_id>/offers", methods=["POST"])
@auth.require("admin", "college_officer")
@once
@camp.arguments(s.OfferInput)
@camp.response(201, s.Offer)
def create_offer(body, campaign_id):
    """Places of a specialty at a college: state-order and paid seats; quota seats follow."""
    return campaigns.create_offer(deps(), me(), campaign_id, body)


@camp.route("/<campaign_id>/allocations")
class Allocations(MethodView):
    @auth.require()
    @camp.response(200, s.Run(many=True))
    def get(self, campaign_id):
        """The campaign's allocation waves."""
        return allocation.list_runs(deps(), campaign_id)

    @auth.require("admin", "college_officer")
    @once
    @camp.arguments(s.AllocationInput)
    @camp.response(202, s.Run)
    def post(self, body, campaign_id):
        """After a track closes: the next wave (the worker runs it; poll its status)."""
        return allocation.request(deps(), me(), campaign_id, body)


@camp.route("/<campaign_id>/allocations/<run_id>", methods=["GET"])
@auth.require()
@camp.response(200, s.Run)
def get_run(campaign_id, run_id):
    """One wave: queued, running, done (with its counts and deadlines) or failed."""
    return allocation.get_run(deps(), campaign_id, run_id)


off = Blueprint("offers", __name__, url_prefix="/offers", description="Places per specialty.")


@off.route("")
@off.arguments(s.OfferQuery, location="query")
@off.response(200, s.OfferPage)
def list_offers(args):
    """Places by campaign, college, track; with the latest wave's cutoffs (public)."""
    return campaigns.list_offers(deps(), args)


@off.route("/<offer_id>")
class OfferResource(MethodView):
    @off.response(200, s.Offer)
    def get(self, offer_id):
        """One offer (public)."""
        return campaigns.get_offer(deps(), offer_id)

    @auth.require("admin", "college_officer")
    @off.arguments(s.OfferPatch)
    @off.response(200, s.Offer)
    def patch(self, body, offer_id):
        """Seats, before the track's first wave."""
        return campaigns.update_offer(deps(), me(), offer_id, body)


@off.route("/<offer_id>/ranking")
@off.arguments(s.Paging, location="query")
@off.response(200, s.Ranking)
def ranking(args, offer_id):
    """The ranking list of an offer, masked IINs only (public)."""
    return allocation.ranking(deps(), offer_id, args)


# --- applications -------------------------------------------------------------------------
apps = Blueprint("applications", __name__, url_prefix="/applications",
                 description="The applicant's applications; officers' review.")  # fmt: skip


@apps.route("")
class Applications(MethodView):
    @auth.require()
    @apps.arguments(s.ApplicationQuery, location="query")
    @apps.response(200, s.ApplicationPage)
    def get(self, args):
        """My applications; an officer: the applications to their college (or region)."""
        return applications.list_for(deps(), me(), args)

    @auth.require("citizen")
    @once
    @apps.arguments(s.ApplicationInput)
    @apps.response(201, s.Application)
    def post(self, body):
        """Apply, in my own name, with up to 4 ranked choices: a draft."""
        return applications.create(deps(), me(), body)


@apps.route("/<app_id>")
class ApplicationResource(MethodView):
    @auth.require()
    @apps.response(200, s.Application)
    def get(self, app_id):
        """One application, with its allocation and the cutoffs of its choices."""
        return applications.get(deps(), me(), app_id)

    @auth.require("citizen")
    @apps.arguments(s.ApplicationPatch)
    @apps.response(200, s.Application)
    def patch(self, body, app_id):
        """Change the choices until the track closes (a draft: also average and quotas)."""
        return applications.update(deps(), me(), app_id, body)


def _action(name: str, fn, doc: str, schema=None, roles=("citizen",)):
    route = f"/<app_id>/{name}"

    if schema is None:

        @apps.route(route, methods=["POST"], endpoint=f"app_{name}")
        @auth.require(*roles)
        @once
        @apps.response(200, s.Application)
        def act(app_id):
            return fn(deps(), me(), app_id)

    else:

        @apps.route(route, methods=["POST"], endpoint=f"app_{name}")
        @auth.require(*roles)
        @once
        @apps.arguments(schema)
        @apps.response(200, s.Application)
        def act(body, app_id):
            return fn(deps(), me(), app_id, body)

    act.__doc__ = doc
    return act


_action("submit", applications.submit, "Submit (or resubmit): 422 names a missing document.")
_action("withdraw", applications.withdraw, "Withdraw, until the track closes.")
_action(
    "review",
    documents.review,
    "The first-choice college's officer: accept, or return documents with reasons.",
    s.ReviewInput,
    ("college_officer", "admin"),
)
_action(
    "exams",
    applications.record_exam,
    "The college's officer: the entrance exam of a creative specialty, passed or not.",
    s.ExamInput,
    ("college_officer", "admin"),
)
_action(
    "enrolment",
    lambda d, p, app_id, body: enrolment.decide(d, p, app_id, body["decision"]),
    "Confirm enrolment in the allocated seat within N working days, or decline it.",
    s.EnrolmentInput,
)


@apps.route("/<app_id>/consent", methods=["POST"])
@auth.require("citizen")
@once
@apps.response(201, s.Consent)
def consent(app_id):
    """A parent of an applicant under 16 (per the population registry) consents."""
    return applications.record_consent(deps(), me(), app_id)


@apps.route("/<app_id>/documents", methods=["POST"])
@body_limit(UPLOAD_BODY)
@auth.require("citizen")
@once
@apps.doc(**_form_doc(
    {"kind": {"type": "string", "enum": list(lc.DOCUMENT_KINDS)},
     "quota": {"type": "string", "enum": list(CATEGORIES),
               "description": "For a quota_proof: the quota it proves"}},
    ["kind"],
))  # fmt: skip
@apps.response(201, s.Document)
def upload_document(app_id):
    """Upload a document (multipart: kind, quota for a quota proof, file)."""
    form, up = _upload({"kind", "quota"})
    kind = form.get("kind")
    if kind not in lc.DOCUMENT_KINDS:
        raise Problem(422, "kind_invalid", f"One of {', '.join(lc.DOCUMENT_KINDS)}.", field="kind")
    quota = form.get("quota") or None
    if quota is not None and quota not in CATEGORIES:
        raise Problem(422, "quota_invalid", f"One of {', '.join(CATEGORIES)}.", field="quota")
    return documents.upload(deps(), me(), app_id, kind, quota, up)


@apps.route("/<app_id>/documents/<doc_id>", methods=["GET"])
@auth.require()
@apps.response(200, description="The file")
def download_document(app_id, doc_id):
    """A document: for the applicant and the officers of the chosen colleges only."""
    return _file_response(documents.download(deps(), me(), app_id, doc_id))


@apps.route("/<app_id>/appeals", methods=["POST"])
@auth.require("citizen")
@once
@apps.arguments(s.AppealInput)
@apps.response(201, s.Appeal)
def file_appeal(body, app_id):
    """Appeal the latest wave's results, within 1 working day of them."""
    return appeals.file(deps(), me(), app_id, body)


apl = Blueprint("appeals", __name__, url_prefix="/appeals", description="Admission appeals.")


@apl.route("")
@auth.require()
@apl.arguments(s.AppealQuery, location="query")
@apl.response(200, s.AppealPage)
def list_appeals(args):
    """My appeals; an officer: those to their college or region."""
    return appeals.list_for(deps(), me(), args)


@apl.route("/<appeal_id>/decision", methods=["POST"])
@auth.require("college_officer", "admin")
@once
@apl.arguments(s.AppealDecision)
@apl.response(200, s.Appeal)
def decide_appeal(body, appeal_id):
    """Grant (optionally re-scoring the application) or reject, with a reason."""
    return appeals.decide(deps(), me(), appeal_id, body)


# --- students and requests ----------------------------------------------------------------
stu = Blueprint("students", __name__, url_prefix="/students", description="The cabinet.")


@stu.route("/me")
@auth.require()
@stu.response(200, s.Student(many=True))
def my_studies():
    """Where I study: college, group, study form, and the state services I may ask for."""
    return requests.my_studies(deps(), me())


@stu.route("/<student_id>", methods=["PATCH"])
@auth.require("college_officer", "admin")
@stu.arguments(s.GroupInput)
@stu.response(200, s.Student)
def set_group(body, student_id):
    """The college's officer assigns the student's group."""
    return requests.set_group(deps(), me(), student_id, body)


req = Blueprint("requests", __name__, url_prefix="/requests",
                description="The college's state services.")  # fmt: skip


@req.route("")
class Requests(MethodView):
    @auth.require()
    @req.arguments(s.RequestQuery, location="query")
    @req.response(200, s.RequestPage)
    def get(self, args):
        """My requests; an officer: their college's (overdue=true for the late ones)."""
        return requests.list_for(deps(), me(), args)

    @auth.require("citizen")
    @once
    @req.arguments(s.RequestInput)
    @req.response(201, s.Request)
    def post(self, body):
        """Ask the college for a state service: its type and fields; the deadline follows."""
        try:
            fields_ = s.REQUEST_FIELDS[body["type"]]()
            body["fields"] = fields_.dump(fields_.load(body.get("fields") or {}))
        except ValidationError as exc:
            params = [
                {"name": f"fields.{k}", "reason": "; ".join(map(str, v)) if isinstance(v, list)
                 else str(v)}
                for k, v in exc.messages.items()
            ]  # fmt: skip
            raise Problem(422, "validation_failed", invalid_params=params) from None
        return requests.create(deps(), me(), body)


@req.route("/<request_id>", methods=["GET"])
@auth.require()
@req.response(200, s.Request)
def get_request(request_id):
    """One request with its history."""
    return requests.get(deps(), me(), request_id)


@req.route("/<request_id>/status", methods=["POST"])
@auth.require("college_officer", "admin")
@once
@req.arguments(s.StatusInput)
@req.response(200, s.Request)
def move_request(body, request_id):
    """The college's officer: in_review, approved, refused (with a reason), done."""
    return requests.move(deps(), me(), request_id, body)


@req.route("/<request_id>/documents", methods=["POST"])
@body_limit(UPLOAD_BODY)
@auth.require("citizen")
@once
@req.doc(**_form_doc({}, []))
@req.response(201, s.Attachment)
def attach(request_id):
    """Attach a supporting document (multipart: file)."""
    _form, up = _upload(set())
    return requests.attach(deps(), me(), request_id, up)


@req.route("/<request_id>/documents/<doc_id>", methods=["GET"])
@auth.require()
@req.response(200, description="The file")
def download_attachment(request_id, doc_id):
    """A request's document: for the student and the college's officers."""
    return _file_response(requests.download(deps(), me(), request_id, doc_id))


BLUEPRINTS = [cat, camp, off, apps, apl, stu, req]

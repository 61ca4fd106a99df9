"""Schemathesis over the escorts and attendance operations, signed in as the parent, an escort
and the teacher of an enrolled child: no input produces a server error."""

import datetime as dt

import pytest
from schemathesis import GenerationMode

from edu_common import fuzzing
from services.kindergarten.tests import kg_children_fixtures as kf

pytestmark = pytest.mark.integration
kids = kf.kids

EXAMPLES = 15
MINE = (
    "/children/",
    "/me/escorted-children",
    "/door-code",
    "/kindergartens/{kindergarten_id}/att",
    "/kindergartens/{kindergarten_id}/audit",
    "/attendance-corrections",
)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(kids, mode):
    child = kids.enrol("Аружан")
    assert kids.add_escort(child, "granny").status_code == 201
    late = (kids.clock() - dt.timedelta(days=3)).isoformat()
    pending = kids.mark(child, "teacher", at=late, reason="поздно")
    assert pending.status_code == 202
    operator = kids.minter.headers("acc-op", roles=["district_operator"], organization_id="d-1")
    operations = fuzzing.operations(kids.client.application, paths=MINE)
    assert len(operations) >= 14
    mine = {who: kids.headers(who) for who in ("mother", "granny", "teacher")}

    def callers(operation):
        operators = "/attendance-corrections" in operation.path or "/audit" in operation.path
        return {**mine, "operator": operator} if operators else mine

    real = {"child_iin": child, "kindergarten_id": kf.KG, "correction_id": pending.json["id"]}
    failures = fuzzing.failures(operations, mode, callers, real=real, examples=EXAMPLES)
    assert not failures, "\n".join(failures)

"""Schemathesis over applicant's own OpenAPI document, as an applicant with a submitted
application, as the first-choice college's officer and as an admin: no input produces a server
error, and every error is problem+json."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from .conftest import COLLEGES

pytestmark = pytest.mark.integration

EXAMPLES = 8


@pytest.fixture
def scene(world):
    world.campaign()
    world.offer("law", COLLEGES[0], "0201000", seats=1)
    world.offer("it", COLLEGES[1], "1304000", seats=1)
    who = world.accepted(["law", "it"], 4.4)
    return world, who


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(scene, mode):
    world, who = scene
    app = world.client.application
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    real = {
        "app_id": who.app,
        "college_id": COLLEGES[0],
        "campaign_id": "kostanay-2026",
        "offer_id": world.offers["law"],
    }
    people = {
        "applicant": who.h,
        "officer": world.officer(COLLEGES[0]),
        "admin": world.admin(),
    }
    failures = []
    for operation in operations:
        for name, headers in people.items():
            try:
                fuzzer(operation, mode, headers, real)()
            except Unsatisfiable:
                continue
            except Exception as exc:
                failures.append(f"{operation.label} as {name}: {exc}")
    assert not failures, "\n".join(failures)


def fuzzer(operation, mode, headers, real):
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        params = case.path_parameters or {}
        # Half the cases aim at real objects, to get past the 404.
        for name, value in real.items():
            if name in params and len(str(case.body)) % 2 == 0:
                params[name] = value
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        if response.status_code >= 400:
            ctype = {k.lower(): v for k, v in response.headers.items()}["content-type"]
            ctype = ctype[0] if isinstance(ctype, list) else ctype
            assert ctype.startswith("application/problem+json"), response.status_code

    return fuzz

"""Schemathesis over applicant's own OpenAPI document, as an applicant with a submitted
application, as the first-choice college's officer and as an admin: no input produces a server
error, and every error is problem+json."""

import pytest
from schemathesis import GenerationMode

from edu_common import fuzzing

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
    operations = fuzzing.operations(app)
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
    failures = fuzzing.failures(operations, mode, people, real=real, examples=EXAMPLES)
    assert not failures, "\n".join(failures)

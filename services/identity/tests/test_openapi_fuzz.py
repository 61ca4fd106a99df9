"""Schemathesis over identity's own OpenAPI document: no input produces a server error."""

import pytest
from schemathesis import GenerationMode

from edu_common import fuzzing

pytestmark = pytest.mark.integration

EXAMPLES = 20


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(app, mode):
    operations = fuzzing.operations(app)
    assert len(operations) >= 15
    failures = fuzzing.failures(operations, mode, {"anyone": None}, examples=EXAMPLES)
    assert not failures, "\n".join(failures)

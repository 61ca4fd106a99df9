"""Test support: schemathesis over a service's own OpenAPI document, as each kind of caller.
No input may make a server error, and every error is problem+json. Never used by a running
service (schemathesis and hypothesis are development dependencies)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

Callers = Mapping[str, dict | None]


def operations(app, *, paths: tuple[str, ...] = ()) -> list:
    """The app's operations (those whose path contains one of ``paths``, when given)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if not paths or any(part in op.path for part in paths)]


def _fuzzer(operation, mode, headers, real: Mapping[str, str], examples: int):
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=examples,
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


def failures(
    operations: list,
    mode,
    callers: Callers | Callable[[object], Callers],
    *,
    real: Mapping[str, str] | None = None,
    examples: int = 10,
) -> list[str]:
    """One line per operation and caller that failed; ``callers`` may depend on the operation."""
    out = []
    for operation in operations:
        who = callers(operation) if callable(callers) else callers
        for name, headers in who.items():
            try:
                _fuzzer(operation, mode, headers, real or {}, examples)()
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid
            except Exception as exc:
                out.append(f"{operation.label} as {name}: {exc}")
    return out

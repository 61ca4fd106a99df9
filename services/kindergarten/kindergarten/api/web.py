"""What every API module shares: the composition's Deps, idempotency, the caller."""

from __future__ import annotations

from edu_common.web.views import ServiceViews
from kindergarten.deps import Deps

BEARER = [{"bearer": []}]


views: ServiceViews[Deps] = ServiceViews("kindergarten")
deps, once, me = views.deps, views.once, views.me

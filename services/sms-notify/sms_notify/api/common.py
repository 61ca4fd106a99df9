"""What the views share: the deps the composition root put on the app, who is asking, and
idempotent POSTs."""

from __future__ import annotations

from edu_common.web.views import ServiceViews
from sms_notify.deps import Deps

EXTENSION = "sms-notify"  # app.extensions[EXTENSION]: the Deps, set by app.create_app
ADMIN = "admin"


views: ServiceViews[Deps] = ServiceViews(EXTENSION)
deps, once, caller_id = views.deps, views.once, views.caller_id

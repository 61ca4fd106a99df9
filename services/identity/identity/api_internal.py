"""identity's internal API: what the platform's own services ask identity directly.

``GET /internal/accounts/{account_id}`` answers an account's current state, the payload of
``identity.account.changed.v1``, to a service whose local copy has not caught up with a new
sign-up yet (docs/decisions/0016-account-copy-on-miss.md). The service passes on the asking
person's own access token; identity answers only for that token's subject, so nobody learns
more than their own account, which ``GET /me`` shows them anyway.
"""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from edu_common.contracts.identity import AccountChanged
from edu_common.web import auth
from edu_common.web.problems import Problem
from identity import store
from identity.usecases.common import account_state

blp = Blueprint(
    "internal",
    __name__,
    url_prefix="/internal",
    description="For the platform's services: the asking person's account as they copy it.",
)


@blp.route("/accounts/<account_id>", methods=["GET"])
@blp.response(200, AccountChanged)
@blp.alt_response(403, description="Not the token's own account (code not_your_account)")
@blp.alt_response(404, description="No such account (code account_not_found)")
@blp.doc(security=[{"bearer": []}])
@auth.require()
def account(account_id):
    """The account's current state, as identity.account.changed.v1 carries it, for the token's
    own subject only."""
    if auth.current_principal().account_id != account_id:
        raise Problem(403, "not_your_account", "Only your own account is answered here.")
    found = current_app.extensions["identity"].db[store.ACCOUNTS].find_one({"_id": account_id})
    if found is None:
        raise Problem(404, "account_not_found")
    return account_state(found)

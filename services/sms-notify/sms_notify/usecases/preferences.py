"""A person's own preferences: language, channels, the kinds they want, quiet hours.

Stored in ``preferences`` (keyed by account id) next to the consent identity's events record;
``outgoing`` reads them for every message. Until changed, the defaults are shown.
"""

from __future__ import annotations

from edu_common import accounts
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.domain import kinds, quiet


def shown(deps: Deps, account: dict, prefs: dict) -> dict:
    stored_quiet = prefs.get("quiet_hours")
    if stored_quiet is not None and stored_quiet.get("enabled") is False:
        quiet_hours = None
    else:
        q = quiet.QuietHours.from_doc(stored_quiet, deps.settings.timezone)
        quiet_hours = {
            "start": q.start.strftime("%H:%M"),
            "end": q.end.strftime("%H:%M"),
            "time_zone": q.time_zone,
        }
    default_channels = ["sms"] if account.get("phone") else ["email"]
    consent = prefs.get("consent", account.get("notifications_consent", True))
    return {
        "language": prefs.get("language") or account.get("language") or "ru",
        "channels": prefs.get("channels") or default_channels,
        "kinds": {k: (prefs.get("kinds") or {}).get(k, True) for k in kinds.KINDS},
        "quiet_hours": quiet_hours,
        "notifications_consent": consent is not False,
    }


def view(deps: Deps, account_id: str) -> dict:
    account = accounts.require(deps.db, account_id)
    prefs = deps.db[store.PREFERENCES].find_one({"_id": account_id}) or {}
    return shown(deps, account, prefs)


def change(deps: Deps, account_id: str, body: dict) -> dict:
    """Change the fields given; the others stay. ``quiet_hours: None`` turns them off."""
    account = accounts.require(deps.db, account_id)
    changes = {}
    for key in ("language", "channels"):
        if key in body:
            changes[key] = body[key]
    for kind, wanted in (body.get("kinds") or {}).items():
        changes[f"kinds.{kind}"] = wanted
    if "quiet_hours" in body:
        hours = body["quiet_hours"]
        # Stored with its zone, so they stay the person's hours if TIMEZONE ever changes.
        changes["quiet_hours"] = (
            {"enabled": False} if hours is None else {"time_zone": deps.settings.timezone, **hours}
        )
    col = deps.db[store.PREFERENCES]
    if changes:
        changes["updated_at"] = deps.now()
        col.update_one({"_id": account_id}, {"$set": changes}, upsert=True)
    return shown(deps, account, col.find_one({"_id": account_id}) or {})

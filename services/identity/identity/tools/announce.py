"""Publish every account's current state again (``python -m identity.tools.announce``).

For a service that starts consuming identity.account.changed.v1 after accounts already exist,
or a copy that was lost: each account is announced at its current revision, so a copy that
already has it changes nothing and a new one fills up. Runs against identity's own database;
the worker's relay publishes what it writes.
"""

from __future__ import annotations

import argparse
import sys

from pymongo.database import Database

from edu_common import mongo, outbox
from identity import events, store
from identity.settings import Settings
from identity.usecases.common import account_state

BATCH = 500


def announce_all(db: Database, batch: int = BATCH) -> int:
    """Write one account.changed event per account to the outbox; answers how many."""
    written, after = 0, ""
    while True:
        page = list(db[store.ACCOUNTS].find({"_id": {"$gt": after}}).sort("_id", 1).limit(batch))
        if not page:
            return written
        # Accounts made before revisions existed get their first one.
        for account in page:
            if "revision" not in account:
                db[store.ACCOUNTS].update_one(
                    {"_id": account["_id"], "revision": {"$exists": False}},
                    {"$set": {"revision": 1}},
                )
                account["revision"] = 1

        def work(session, page=page):
            for account in page:
                outbox.emit(db, session, events.ACCOUNT_CHANGED, account_state(account))

        mongo.in_transaction(db, work)
        written += len(page)
        after = page[-1]["_id"]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    settings = Settings.from_env()
    count = announce_all(mongo.database(settings.mongo_url, settings.database))
    print(f"{count} accounts announced; the worker's relay publishes them")
    return 0


if __name__ == "__main__":
    sys.exit(main())

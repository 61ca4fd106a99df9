"""The service's own MongoDB database: connection, indexes declared in code, transactions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pymongo
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

T = TypeVar("T")
log = logging.getLogger(__name__)
_INDEX_CHANGED = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict
_INDEX_NOT_FOUND = 27

_clients: dict[str, pymongo.MongoClient] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Index:
    collection: str
    keys: list[tuple[str, int]]
    unique: bool = False
    sparse: bool = False
    name: str | None = None
    expire_after_seconds: int | None = None
    partial: dict | None = None

    def options(self) -> dict:
        opts: dict[str, Any] = {"unique": self.unique}
        if self.sparse:
            opts["sparse"] = True
        if self.name:
            opts["name"] = self.name
        if self.expire_after_seconds is not None:
            opts["expireAfterSeconds"] = self.expire_after_seconds
        if self.partial is not None:
            opts["partialFilterExpression"] = self.partial
        return opts


def client(url: str) -> pymongo.MongoClient:
    """One client per URL per process; created lazily so it is made after gunicorn forks."""
    with _lock:
        found = _clients.get(url)
        if found is None:
            found = pymongo.MongoClient(
                url, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000
            )
            _clients[url] = found
        return found


def database(url: str, name: str) -> Database:
    return client(url).get_database(name)


@retry(
    retry=retry_if_exception_type(pymongo.errors.ConnectionFailure),
    wait=wait_exponential(multiplier=0.5, max=5),
    stop=stop_after_delay(120),
    before_sleep=lambda state: log.warning(
        "database not reachable yet (%s); retrying", state.outcome.exception()
    ),
    reraise=True,
)
def ensure_indexes(db: Database, indexes: Iterable[Index]) -> None:
    """Create the declared indexes; at start-up, waits up to two minutes for the database.

    The code is the source of truth: an index whose declaration changed is rebuilt.
    """
    for index in indexes:
        try:
            db[index.collection].create_index(index.keys, **index.options())
        except pymongo.errors.OperationFailure as exc:
            if exc.code not in _INDEX_CHANGED or not index.name:
                raise
            log.warning("index %s.%s changed: rebuilding it", index.collection, index.name)
            try:
                db[index.collection].drop_index(index.name)
            except pymongo.errors.OperationFailure as dropped:
                if dropped.code != _INDEX_NOT_FOUND:  # another process rebuilt it first
                    raise
            db[index.collection].create_index(index.keys, **index.options())


def in_transaction(db: Database, fn: Callable[[ClientSession], T]) -> T:
    """Run fn(session) in one transaction; pymongo retries transient conflicts for us."""
    with db.client.start_session() as session:
        return session.with_transaction(
            fn,
            read_concern=ReadConcern("majority"),
            write_concern=WriteConcern("majority"),
        )


def ping(db: Database) -> bool:
    try:
        db.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False

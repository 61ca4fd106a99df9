"""Uploaded files: checked by content and size, kept in a GridFS bucket.

The type a client declares is not trusted: the first bytes must be those of a PDF, JPEG or
PNG. GridFS writes cannot join a transaction, so a service stores the file first and its
record after; a record that was never written leaves an orphan that ``FileStore.orphans``
removes later. Each service names its own problems (``file_too_large``,
``attachment_too_large``, ...) through ``check``'s ``code`` and ``field``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import gridfs
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database

from edu_common.web.problems import Problem

# What a file's first bytes must be for each allowed type.
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\"]+")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str  # as the client declared it
    data: bytes


def sniff(data: bytes) -> str | None:
    """The type the content shows (one of ``MAGIC``), or None."""
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(p) for p in prefixes):
            return content_type
    return None


def check(
    upload: Upload,
    max_bytes: int,
    *,
    field: str = "file",
    code: str = "file",
    not_allowed: str = "Only PDF, JPEG and PNG files are accepted.",
) -> str:
    """The file's real type; 422 ``<code>_empty``, 413 ``<code>_too_large``, 415
    ``<code>_type_not_allowed`` / ``<code>_type_mismatch`` problems name ``field``."""
    if not upload.data:
        raise Problem(422, f"{code}_empty", "The file is empty.", field=field)
    if len(upload.data) > max_bytes:
        raise Problem(
            413, f"{code}_too_large", f"A file is at most {max_bytes // 1024} KiB.", field=field
        )
    real = sniff(upload.data)
    if real is None:
        raise Problem(415, f"{code}_type_not_allowed", not_allowed, field=field)
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", real):
        raise Problem(
            415,
            f"{code}_type_mismatch",
            "The file's content does not match its declared type.",
            field=field,
        )
    return real


def safe_name(name: str | None) -> str:
    """A file name without its path, control characters, slashes or quotes (at most 100)."""
    cleaned = _UNSAFE_NAME.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return (cleaned or "file")[:100]


def _oid(file_id) -> ObjectId:
    return file_id if isinstance(file_id, ObjectId) else ObjectId(file_id)


class FileStore:
    """One GridFS bucket."""

    def __init__(self, db: Database, bucket: str):
        self.db = db
        self.bucket_name = bucket
        self.bucket = gridfs.GridFSBucket(db, bucket)

    def put(self, upload: Upload, content_type: str, owner: dict) -> dict:
        """Store a checked upload; ``owner`` goes into its metadata. Returns the file's view
        (file_id, filename, content_type, size)."""
        name = safe_name(upload.filename)
        file_id = self.bucket.upload_from_stream(
            name,
            upload.data,
            metadata={
                **owner,
                "content_type": content_type,
                "sha256": hashlib.sha256(upload.data).hexdigest(),
            },
        )
        return {
            "file_id": str(file_id),
            "filename": name,
            "content_type": content_type,
            "size": len(upload.data),
        }

    def get(self, file_id, owner: dict | None = None) -> tuple[str, str, bytes]:
        """(file name, content type, bytes); 404 ``not_found`` for a bad or unknown id, or
        where the file's metadata does not match ``owner``."""
        try:
            stream = self.bucket.open_download_stream(_oid(file_id))
        except (InvalidId, TypeError, gridfs.errors.NoFile):
            raise Problem(404, "not_found") from None
        meta = stream.metadata or {}
        if owner and any(meta.get(k) != v for k, v in owner.items()):
            raise Problem(404, "not_found")
        return stream.filename, meta.get("content_type", "application/octet-stream"), stream.read()

    def delete(self, file_id) -> bool:
        """Remove a file; False where it was not there (or the id is not one)."""
        with contextlib.suppress(InvalidId, TypeError, gridfs.errors.NoFile):
            self.bucket.delete(_oid(file_id))
            return True
        return False

    def orphans(self, older_than: dt.datetime, known: Callable[[dict], bool]) -> int:
        """Remove files uploaded before ``older_than`` for which ``known(file)`` is false
        (``file`` is the GridFS file document: ``_id``, ``metadata``). GridFS stamps
        ``uploadDate`` with the wall clock."""
        removed = 0
        for f in self.db[f"{self.bucket_name}.files"].find(
            {"uploadDate": {"$lt": older_than}}, {"metadata": 1}
        ):
            if not known(f) and self.delete(f["_id"]):
                removed += 1  # not counted where another worker removed it first
        return removed


__all__ = ["MAGIC", "FileStore", "Upload", "check", "safe_name", "sniff"]

"""Uploaded documents in GridFS (bucket ``documents``), checked by content and size.

The type a client declares is not trusted: the first bytes must be those of a PDF, JPEG or
PNG. GridFS writes cannot join a transaction, so a file is stored first and its record
written after; a record that was never written leaves an orphan the worker removes.
(The same checks as sms-notify's attachments: a candidate for the shared library.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from dataclasses import dataclass

import gridfs
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database

from edu_common.web.problems import Problem

BUCKET = "documents"
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
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(p) for p in prefixes):
            return content_type
    return None


def check(upload: Upload, max_bytes: int, field: str = "file") -> str:
    """The file's real type; 413/415/422 problems name the field."""
    if not upload.data:
        raise Problem(422, "file_empty", "The file is empty.", field=field)
    if len(upload.data) > max_bytes:
        raise Problem(
            413, "file_too_large", f"A file is at most {max_bytes // 1024} KiB.", field=field
        )
    real = sniff(upload.data)
    if real is None:
        raise Problem(
            415, "file_type_not_allowed", "Only PDF, JPEG and PNG files are accepted.", field=field
        )
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", real):
        raise Problem(
            415,
            "file_type_mismatch",
            "The file's content does not match its declared type.",
            field=field,
        )
    return real


def safe_name(name: str | None) -> str:
    cleaned = _UNSAFE_NAME.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return (cleaned or "file")[:100]


class FileStore:
    def __init__(self, db: Database, bucket: str = BUCKET):
        self.db = db
        self.bucket_name = bucket
        self.bucket = gridfs.GridFSBucket(db, bucket)

    def put(self, upload: Upload, content_type: str, owner: dict) -> dict:
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

    def get(self, file_id: str) -> tuple[str, str, bytes]:
        try:
            stream = self.bucket.open_download_stream(ObjectId(file_id))
        except (InvalidId, TypeError, gridfs.errors.NoFile):
            raise Problem(404, "not_found") from None
        meta = stream.metadata or {}
        return stream.filename, meta.get("content_type", "application/octet-stream"), stream.read()

    def delete(self, file_id: str) -> None:
        with contextlib.suppress(InvalidId, gridfs.errors.NoFile):
            self.bucket.delete(ObjectId(file_id))

    def orphans(self, older_than: dt.datetime, known) -> int:
        """Remove files older than ``older_than`` whose record ``known(file_id)`` is missing."""
        removed = 0
        for f in self.db[f"{self.bucket_name}.files"].find(
            {"uploadDate": {"$lt": older_than}}, {"_id": 1}
        ):
            if not known(str(f["_id"])):
                self.delete(str(f["_id"]))
                removed += 1
        return removed

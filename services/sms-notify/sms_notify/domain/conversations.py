"""Messages between parents and teachers: who is which side, what may be attached, what a
notice shows. Pure."""

from __future__ import annotations

import re

PARENT, TEACHER = "parent", "teacher"
TEXT_MAX = 5000
SUBJECT_MAX = 200

# What a file's first bytes must be for each allowed type: the declared type is not trusted.
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\"]+")


def sniff(data: bytes) -> str | None:
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(p) for p in prefixes):
            return content_type
    return None


def safe_name(name: str | None) -> str:
    cleaned = _UNSAFE_NAME.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return (cleaned or "file")[:100]


def preview(text: str, chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1].rstrip() + "…"


def role_in(conversation: dict, account_id: str) -> str | None:
    if conversation["parent_id"] == account_id:
        return PARENT
    if conversation["teacher_id"] == account_id:
        return TEACHER
    return None

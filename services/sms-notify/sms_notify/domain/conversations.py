"""Messages between parents and teachers: who is which side, what may be attached, what a
notice shows. Pure."""

from __future__ import annotations

PARENT, TEACHER = "parent", "teacher"
# Who may be written to as a child's teacher: a school teacher, or a kindergarten's staff named
# as the group's teacher.
TEACHER_ROLES = ("teacher", "kindergarten_staff")
TEXT_MAX = 5000
SUBJECT_MAX = 200


def preview(text: str, chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1].rstrip() + "…"


def role_in(conversation: dict, account_id: str) -> str | None:
    if conversation["parent_id"] == account_id:
        return PARENT
    if conversation["teacher_id"] == account_id:
        return TEACHER
    return None


def teaches(teacher: dict, link: dict) -> bool:
    """Whether the account is the teacher of the child a link (what the events said about where
    the child learns, ``usecases/teaching.py``) is about.

    When the events name the child's teachers (``teacher_ids``), exactly those. Otherwise, a
    ``teacher`` account of the child's school or kindergarten (its ``organization_id``). A link
    that is no longer active (the child left) makes nobody the child's teacher.
    """
    if not link.get("active", True):
        return False
    named = link.get("teacher_ids") or []
    if named:
        return teacher["_id"] in named
    where = link.get("organization_id")
    return bool(where) and (
        "teacher" in (teacher.get("roles") or []) and teacher.get("organization_id") == where
    )

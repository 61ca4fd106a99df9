"""Paths are normalised before routing, so `..`, encoded slashes and `//` never reach another
service's routes (or slip a protected route past the public list)."""

from __future__ import annotations

import re

# Encoded '/', '\' and NUL would be decoded by some upstream frameworks after our routing.
_FORBIDDEN = re.compile(r"%(2f|5c|00)|\\", re.IGNORECASE)
_ENCODED_DOT = re.compile(r"%2e", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class BadPath(ValueError):
    pass


def normalise(raw: str) -> str:
    """The request target's path (no query), with dot segments resolved and empty ones dropped.

    Raises BadPath for encoded slashes or backslashes, control characters, or a path that
    climbs above the root.
    """
    if not raw.startswith("/") or _CONTROL.search(raw) or _FORBIDDEN.search(raw):
        raise BadPath(raw)
    # '%2e%2e' is '..' to every server behind us: resolve it like the plain one.
    path = _ENCODED_DOT.sub(".", raw)
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not out:
                raise BadPath(raw)
            out.pop()
            continue
        out.append(segment)
    trailing = "/" if path.endswith("/") and out else ""
    return "/" + "/".join(out) + trailing


def split_target(target: str) -> tuple[str, str]:
    """Request target -> (path, query string without '?'); fragments never belong here."""
    path, _, query = target.partition("?")
    if "#" in path:
        raise BadPath(target)
    return path, query

"""Admission campaigns: their tracks and dates (DOMAIN.md, "College admission"). Pure.

A campaign is per year and region. Each base of education is a track with its own dates
(after the 9th grade: 25 June - 18 August; after the 11th: 25 June - 20 August); creative
specialties close earlier (20 July) on both tracks. Dates are Almaty dates, inclusive: a
track is open from 00:00 of ``opens`` to 23:59:59 of ``closes``, Asia/Almaty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

AFTER_9 = "after_9"
AFTER_11 = "after_11"
TRACKS = (AFTER_9, AFTER_11)
STUDY_FORMS = ("full_time", "part_time", "evening")
LANGUAGES = ("kk", "ru")


@dataclass(frozen=True)
class Defaults:
    """Month-day defaults of the tracks (settings)."""

    after_9_opens: str = "06-25"
    after_9_closes: str = "08-18"
    after_11_opens: str = "06-25"
    after_11_closes: str = "08-20"
    creative_closes: str = "07-20"


def _on(year: int, mmdd: str) -> dt.date:
    month, day = (int(p) for p in mmdd.split("-"))
    return dt.date(year, month, day)


def default_tracks(year: int, d: Defaults) -> dict:
    return {
        AFTER_9: {"opens": _on(year, d.after_9_opens), "closes": _on(year, d.after_9_closes)},
        AFTER_11: {"opens": _on(year, d.after_11_opens), "closes": _on(year, d.after_11_closes)},
        "creative_closes": _on(year, d.creative_closes),
    }


class DatesInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def merge_tracks(current: dict, changes: dict) -> dict:
    """The tracks with ``changes`` applied (each date may change alone), checked."""
    merged = {
        AFTER_9: dict(current[AFTER_9]),
        AFTER_11: dict(current[AFTER_11]),
        "creative_closes": current["creative_closes"],
    }
    for track in TRACKS:
        merged[track].update(changes.get(track) or {})
    if changes.get("creative_closes"):
        merged["creative_closes"] = changes["creative_closes"]
    check_tracks(merged)
    return merged


def check_tracks(tracks: dict) -> None:
    for track in TRACKS:
        if tracks[track]["opens"] > tracks[track]["closes"]:
            raise DatesInvalid(f"tracks.{track}.closes", "A track cannot close before it opens.")
    earliest = min(tracks[t]["opens"] for t in TRACKS)
    latest = max(tracks[t]["closes"] for t in TRACKS)
    if not earliest <= tracks["creative_closes"] <= latest:
        raise DatesInvalid(
            "tracks.creative_closes", "Creative specialties close while the tracks are open."
        )


def is_open(tracks: dict, track: str, today: dt.date) -> bool:
    dates = tracks[track]
    return dates["opens"] <= today <= dates["closes"]


def is_closed(tracks: dict, track: str, today: dt.date) -> bool:
    """After the track's last day: allocation may run."""
    return today > tracks[track]["closes"]


def creative_open(tracks: dict, track: str, today: dt.date) -> bool:
    return is_open(tracks, track, today) and today <= tracks["creative_closes"]


def to_storage(tracks: dict) -> dict:
    """Dates as ISO strings in the database (BSON has no date-only type)."""
    return {
        **{t: {k: v.isoformat() for k, v in tracks[t].items()} for t in TRACKS},
        "creative_closes": tracks["creative_closes"].isoformat(),
    }


def from_storage(stored: dict) -> dict:
    return {
        **{t: {k: dt.date.fromisoformat(v) for k, v in stored[t].items()} for t in TRACKS},
        "creative_closes": dt.date.fromisoformat(stored["creative_closes"]),
    }

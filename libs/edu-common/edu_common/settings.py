"""Settings declared once: each field names its environment variable, its default and (by its
annotation) its type together, so there is no second default in a ``from_env`` to drift.

    @dataclass(frozen=True, kw_only=True)
    class Settings(ServiceSettings):
        database: str = setting("MONGO_DATABASE", "kindergarten")
        max_kindergartens: int = setting("KG_MAX_KINDERGARTENS", 4)
        door_code_secret: str = secret("DOOR_CODE_SECRET", DEV_DOOR_CODE_SECRET)

    Settings.from_env()                # the process's environment (NAME or NAME_FILE)
    Settings.from_env(environ={...})   # tests
    Settings(max_kindergartens=2)      # tests, directly

A default marked ``dev`` (every ``secret``'s default is) is a development default: it works on a
developer's machine and ``development_defaults`` names it, so production can refuse it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import types
import typing
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from edu_common.config import DEV_AMQP_URL, DEV_MONGO_URL, ConfigError

_META = "edu_setting"


@dataclass(frozen=True)
class Declared:
    """What a field declares: read by ``from_env`` and by the checks of deployment files."""

    field: str
    env: str
    default: Any
    dev: bool
    secret: bool
    parse: Callable[[str], Any] | None


def setting(
    env: str,
    default: Any = None,
    *,
    parse: Callable[[str], Any] | None = None,
    dev: bool = False,
    secret: bool = False,
) -> Any:
    """A settings field read from ``env``; ``parse`` turns the raw text into the value when the
    annotation alone does not say how."""
    meta = {_META: {"env": env, "parse": parse, "dev": dev, "secret": secret, "default": default}}
    if isinstance(default, list | dict | set):
        raise TypeError("settings are immutable: use a tuple or a MappingProxyType")
    if isinstance(default, MappingProxyType):  # read-only, but unhashable for dataclasses
        return dataclasses.field(default_factory=lambda: default, metadata=meta, repr=not secret)
    return dataclasses.field(default=default, metadata=meta, repr=not secret)


def secret(env: str, dev_default: Any = None, *, parse: Callable[[str], Any] | None = None) -> Any:
    """A secret: never printed; a non-empty default is a development default."""
    return setting(env, dev_default, parse=parse, dev=dev_default is not None, secret=True)


def hours(raw: str) -> dt.timedelta:
    return dt.timedelta(hours=float(raw))


def minutes(raw: str) -> dt.timedelta:
    return dt.timedelta(minutes=float(raw))


def seconds(raw: str) -> dt.timedelta:
    return dt.timedelta(seconds=float(raw))


def days(raw: str) -> dt.timedelta:
    return dt.timedelta(days=float(raw))


def time_zone(raw: str) -> str:
    """A time zone name the tz database knows (checked at start, not at first use)."""
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{raw!r} is not a known time zone") from exc
    return raw


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{raw!r} is not a yes/no value")


def _by_type(kind: Any) -> Callable[[str], Any]:
    """How to read a value of this annotation from text."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _by_type(inner[0])
    if typing.get_origin(kind) is tuple:
        item = _by_type(args[0]) if args else str
        return lambda raw: tuple(item(p.strip()) for p in raw.split(",") if p.strip())
    readers: dict[Any, Callable[[str], Any]] = {
        str: str,
        int: int,
        float: float,
        bool: _bool,
        bytes: lambda raw: raw.encode(),
        dt.time: dt.time.fromisoformat,
        dt.date: dt.date.fromisoformat,
    }
    if kind not in readers:
        raise TypeError(f"no reader for settings of type {kind!r}: pass parse=")
    return readers[kind]


def declared(cls: type) -> list[Declared]:
    """Every field of a settings class that is read from the environment."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            continue
        parse = meta["parse"] or _by_type(hints[f.name])
        out.append(
            Declared(f.name, meta["env"], meta["default"], meta["dev"], meta["secret"], parse)
        )
    return out


def _raw(name: str, environ: Mapping[str, str]) -> str | None:
    """NAME, or the contents of the file NAME_FILE names (how secrets are mounted)."""
    value = environ.get(name)
    if (value is None or value == "") and environ.get(f"{name}_FILE"):
        try:
            with open(environ[f"{name}_FILE"], encoding="utf-8") as f:
                value = f.read().rstrip("\n")
        except OSError as exc:
            raise ConfigError(f"{name}_FILE cannot be read: {exc.strerror}") from exc
    return None if value in (None, "") else value


def load(cls: type, environ: Mapping[str, str] | None = None, **overrides: Any):
    """An instance of ``cls`` from the environment; ConfigError names a bad variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for d in declared(cls):
        raw = _raw(d.env, environ)
        if raw is None:
            continue
        try:
            values[d.field] = d.parse(raw)
        except (ValueError, TypeError) as exc:
            # The value itself may be a secret: name the variable and the rule only.
            shown = "" if d.secret else f": {exc}"
            raise ConfigError(f"{d.env} is not valid{shown}") from None
    values.update(overrides)
    return cls(**values)


def development_defaults(settings: Any) -> list[str]:
    """The variables still at a development default (names only, never values)."""
    return [
        d.env for d in declared(type(settings)) if d.dev and getattr(settings, d.field) == d.default
    ]


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """What every service reads: where its database and the bus are, identity's keys, and the
    one local time zone (deadlines, quiet hours, digests all count in it)."""

    mongo_url: str = setting("MONGO_URL", DEV_MONGO_URL, dev=True)
    database: str = setting("MONGO_DATABASE", "edu")  # each service names its own
    amqp_url: str = setting("AMQP_URL", DEV_AMQP_URL, dev=True)
    jwks_url: str = setting("IDENTITY_JWKS_URL", "http://127.0.0.1:8001/.well-known/jwks.json")
    timezone: str = setting("TIMEZONE", "Asia/Almaty", parse=time_zone)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any):
        return load(cls, environ, **overrides)

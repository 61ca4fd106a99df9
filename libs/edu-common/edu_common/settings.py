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
developer's machine and ``development_defaults`` names it, so production can refuse it. ``dev``
may also be a rule for the values that only make sense on a developer's machine (``loopback_url``,
``file_stand_in``, a known development password).

With ``EDU_ENV=production`` reading settings from the environment refuses them
(``refuse_development_defaults``): every web process, worker and tool of a deployment reads its
settings this way at start, so none of them starts on a development default. ``EDU_ENV`` unset
(or ``development``) is a developer's machine, as ``make run`` is.
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
from urllib.parse import urlsplit

from edu_common.config import DEV_AMQP_URL, DEV_MONGO_URL, ConfigError

_META = "edu_setting"


# The environment a process runs in: "development" (unset: a developer's machine, `make run`)
# or "production" (any deployment, staging included), which refuses development defaults.
ENVIRONMENT = "EDU_ENV"
DEVELOPMENT = "development"
PRODUCTION = "production"

DevRule = bool | Callable[[Any], bool]


@dataclass(frozen=True)
class Declared:
    """What a field declares: read by ``from_env`` and by the checks of deployment files."""

    field: str
    env: str
    default: Any
    dev: bool
    secret: bool
    parse: Callable[[str], Any] | None
    # Which values are development ones; None: the default, when ``dev`` is set.
    dev_rule: Callable[[Any], bool] | None = None

    def at_development_value(self, value: Any) -> bool:
        if self.dev_rule is not None:
            return value is not None and bool(self.dev_rule(value))
        return self.dev and value == self.default


def setting(
    env: str,
    default: Any = None,
    *,
    parse: Callable[[str], Any] | None = None,
    dev: DevRule = False,
    secret: bool = False,
) -> Any:
    """A settings field read from ``env``; ``parse`` turns the raw text into the value when the
    annotation alone does not say how. ``dev=True``: the default is a development default;
    ``dev=rule``: the values ``rule`` answers true for are (the default among them, usually)."""
    meta = {_META: {"env": env, "parse": parse, "dev": dev, "secret": secret, "default": default}}
    if isinstance(default, list | dict | set):
        raise TypeError("settings are immutable: use a tuple or a MappingProxyType")
    if isinstance(default, MappingProxyType):  # read-only, but unhashable for dataclasses
        return dataclasses.field(default_factory=lambda: default, metadata=meta, repr=not secret)
    return dataclasses.field(default=default, metadata=meta, repr=not secret)


def secret(
    env: str,
    dev_default: Any = None,
    *,
    parse: Callable[[str], Any] | None = None,
    dev: Callable[[Any], bool] | None = None,
) -> Any:
    """A secret: never printed; a non-empty default is a development default, and so is any
    value ``dev`` answers true for (a development password documented for `make run`)."""
    rule: DevRule = dev if dev is not None else dev_default is not None
    return setting(env, dev_default, parse=parse, dev=rule, secret=True)


def loopback_url(value: Any) -> bool:
    """A URL on this machine (127.0.0.1, localhost, ::1): where `make run` puts the services,
    never where a deployment's other pods are."""
    try:
        host = (urlsplit(str(value)).hostname or "").lower()
    except ValueError:
        return False
    return host in {"localhost", "::1"} or host.startswith("127.") or host.endswith(".localhost")


def file_stand_in(value: Any) -> bool:
    """A file path or file:// URL where a service is expected (the development population file
    standing in for the population registry)."""
    return urlsplit(str(value)).scheme.lower() not in {"http", "https"}


def equals(*values: Any) -> Callable[[Any], bool]:
    """The rule of a setting whose development values are known ones (a documented password)."""
    return lambda value: value in values


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
        rule = meta["dev"]
        out.append(
            Declared(
                f.name,
                meta["env"],
                meta["default"],
                bool(rule),
                meta["secret"],
                parse,
                rule if callable(rule) else None,
            )
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
    loaded = cls(**values)
    refuse_development_defaults(loaded, environ)
    return loaded


def development_defaults(settings: Any) -> list[str]:
    """The variables still at a development default (names only, never values)."""
    return [
        d.env
        for d in declared(type(settings))
        if d.dev and d.at_development_value(getattr(settings, d.field))
    ]


def environment(environ: Mapping[str, str] | None = None) -> str:
    """``EDU_ENV``: development (unset) or production; anything else is refused, so a typo
    (``prod``) can never quietly mean a developer's machine."""
    environ = os.environ if environ is None else environ
    raw = (environ.get(ENVIRONMENT) or DEVELOPMENT).strip().lower()
    if raw not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(f"{ENVIRONMENT} must be {DEVELOPMENT} or {PRODUCTION}")
    return raw


def refuse_development_defaults(settings: Any, environ: Mapping[str, str] | None = None) -> None:
    """In production, ConfigError naming every variable still at a development default (names
    only: the values may be secrets). Called by ``load`` (so by every ``from_env``); the
    gateway's start-up and tests call it too."""
    if environment(environ) != PRODUCTION:
        return
    names = development_defaults(settings)
    if names:
        raise ConfigError(
            f"{ENVIRONMENT}=production refuses development defaults; set " + ", ".join(names)
        )


DEV_IDENTITY_URL = "http://127.0.0.1:8001"


@dataclass(frozen=True, kw_only=True)
class BusSettings:
    """What the shared consumer reads for itself (edu_common.consumer)."""

    # A parked event that carries a secret (a one-time code) expires from its dead-letter queue
    # after this long: it is useless by then, and a secret is not kept.
    secret_dead_letter_ttl_seconds: int = setting("SECRET_DEAD_LETTER_TTL_SECONDS", 3600)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any):
        return load(cls, environ, **overrides)


@dataclass(frozen=True, kw_only=True)
class ServiceSettings(BusSettings):
    """What every service reads: where its database and the bus are, identity (its keys, and
    where to ask for an account the local copy does not have yet), and the one local time zone
    (deadlines, quiet hours, digests all count in it)."""

    mongo_url: str = setting("MONGO_URL", DEV_MONGO_URL, dev=True)
    database: str = setting("MONGO_DATABASE", "edu")  # each service names its own
    amqp_url: str = setting("AMQP_URL", DEV_AMQP_URL, dev=True)
    jwks_url: str = setting(
        "IDENTITY_JWKS_URL", f"{DEV_IDENTITY_URL}/.well-known/jwks.json", dev=loopback_url
    )
    # identity's internal API (docs/decisions/0016-account-copy-on-miss.md).
    identity_url: str = setting("IDENTITY_URL", DEV_IDENTITY_URL, dev=loopback_url)
    identity_timeout: float = setting("IDENTITY_TIMEOUT_SECONDS", 2.0)
    timezone: str = setting("TIMEZONE", "Asia/Almaty", parse=time_zone)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

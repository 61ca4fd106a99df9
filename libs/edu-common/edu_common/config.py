"""Settings come from the environment only; development defaults are marked as such."""

from __future__ import annotations

import os


class ConfigError(RuntimeError):
    pass


def env(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    """NAME, or the contents of the file named by NAME_FILE (how compose passes secrets)."""
    value = os.environ.get(name)
    if (value is None or value == "") and os.environ.get(f"{name}_FILE"):
        try:
            with open(os.environ[f"{name}_FILE"], encoding="utf-8") as f:
                value = f.read().rstrip("\n")
        except OSError as exc:
            raise ConfigError(f"{name}_FILE cannot be read: {exc}") from exc
    if value is None or value == "":
        if required:
            raise ConfigError(f"environment variable {name} is required")
        return default
    return value


def _typed(name: str, default, cast, what: str):
    raw = env(name)
    if raw is None:
        return default
    try:
        return cast(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from exc


def env_int(name: str, default: int) -> int:
    return _typed(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _typed(name, default, float, "a number")


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


# Development defaults: only ever used when the variable is unset on a developer's machine.
DEV_MONGO_URL = "mongodb://127.0.0.1:27017/?directConnection=true"
DEV_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def connections(database: str) -> dict:
    """Where a service's own database and the bus are: MONGO_URL, MONGO_DATABASE, AMQP_URL."""
    return {
        "mongo_url": env("MONGO_URL", DEV_MONGO_URL),
        "database": env("MONGO_DATABASE", database),
        "amqp_url": env("AMQP_URL", DEV_AMQP_URL),
    }

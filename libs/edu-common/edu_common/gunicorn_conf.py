"""gunicorn settings for every service's web process (`-c python:edu_common.gunicorn_conf`)."""

import importlib
import os
import sys
import tempfile
from pathlib import Path

from edu_common.config import env_int

bind = f"0.0.0.0:{env_int('PORT', 8000)}"
workers = env_int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = env_int("WEB_THREADS", 4)
timeout = 30
graceful_timeout = 20
keepalive = 5
# Connections (MongoDB, broker) are opened lazily, so each worker makes its own after the fork.
preload_app = False
accesslog = None  # the app writes one JSON line per request itself
limit_request_line = 8190
limit_request_field_size = 8190

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prom-")


def on_starting(server):
    # Before a port is bound or a worker forked: the service's settings as its app will read
    # them. A bad value, or a development default with EDU_ENV=production, is a ConfigError,
    # which gunicorn answers with "Error: <what to set>" and exit status 1.
    settings = _settings_class()
    if settings is not None:
        settings.from_env()
    # Counters left by a previous run of this pod would be summed into the new ones.
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _service() -> str:
    """The service's package, from the app argument: `identity.app:create_app()` -> identity."""
    for arg in sys.argv[1:]:
        if ":create_app" in arg:
            return arg.split(".", 1)[0]
    return "web"


def _settings_class():
    """The service's ``<package>.settings.Settings``, or None for an app without one."""
    name = f"{_service()}.settings"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in (name, _service()):
            return None
        raise
    return getattr(module, "Settings", None)


# gunicorn's own lines (start, worker boot, timeouts) in the same JSON shape as the app's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "edu_common.logs.JsonFormatter", "service": _service()}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}

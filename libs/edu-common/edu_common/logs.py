"""JSON logs, one object a line, with the current context and secrets kept out."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

from edu_common import context

# Twelve digits in a row look like an IIN: never let a full one reach a log line.
_IIN = re.compile(r"(?<!\d)\d{8}(\d{4})(?!\d)")
_SECRET_KEYS = re.compile(r"pass|psw|secret|token|code|otp|authorization|signature|nonce", re.I)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    return _IIN.sub(r"********\1", text)


def redact(value):
    if isinstance(value, dict):
        return {
            k: ("[redacted]" if _SECRET_KEYS.search(str(k)) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        ctx = context.current()
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        if ctx.request_id:
            out["request_id"] = ctx.request_id
        if ctx.trace_id:
            out["trace_id"] = ctx.trace_id
        if ctx.correlation_id and ctx.correlation_id != ctx.request_id:
            out["correlation_id"] = ctx.correlation_id
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extra:
            out.update(redact(extra))
        if record.exc_info:
            out["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that log connection chatter at INFO drown the service's own lines.
    for noisy in ("pika", "kombu", "amqp", "pymongo", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

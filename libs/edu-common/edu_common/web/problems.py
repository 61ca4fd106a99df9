"""Errors as application/problem+json (RFC 9457) with a stable machine code.

Every error a client sees goes through here: bad input names its field, and nothing
internal (stack traces, exception texts) leaves the service.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from edu_common import context

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"

# Titles a person reads, in the client's language where it matters.
TITLES: dict[str, dict[str, str]] = {
    "validation_failed": {
        "en": "Some fields are not valid.",
        "ru": "Некоторые поля заполнены неверно.",
        "kk": "Кейбір өрістер қате толтырылған.",
    },
    "malformed_json": {
        "en": "The request body is not valid JSON.",
        "ru": "Тело запроса не является корректным JSON.",
        "kk": "Сұраныс денесі дұрыс JSON емес.",
    },
    "payload_too_large": {
        "en": "The request body is too large.",
        "ru": "Слишком большой запрос.",
        "kk": "Сұраныс тым үлкен.",
    },
    "unauthorized": {
        "en": "Sign in to continue.",
        "ru": "Войдите, чтобы продолжить.",
        "kk": "Жалғастыру үшін кіріңіз.",
    },
    "forbidden": {
        "en": "You are not allowed to do this.",
        "ru": "У вас нет прав на это действие.",
        "kk": "Бұл әрекетке рұқсатыңыз жоқ.",
    },
    "not_found": {"en": "Not found.", "ru": "Не найдено.", "kk": "Табылмады."},
    "too_many_requests": {
        "en": "Too many attempts. Try again later.",
        "ru": "Слишком много попыток. Повторите позже.",
        "kk": "Тым көп әрекет. Кейінірек қайталаңыз.",
    },
    "internal_error": {
        "en": "Something went wrong on our side. Try again later.",
        "ru": "Внутренняя ошибка. Повторите позже.",
        "kk": "Ішкі қате. Кейінірек қайталаңыз.",
    },
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    503: "unavailable",
}


class Problem(Exception):
    """Raise from any handler: becomes a problem+json answer."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ):
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.headers = headers or {}
        self.extra = extra
        if field:
            self.extra.setdefault("invalid_params", [{"name": field, "reason": detail or code}])


def language() -> str:
    try:
        best = request.accept_languages.best_match(["kk", "ru", "en"])
    except RuntimeError:
        best = None
    return best or "ru"


def title_for(code: str, fallback: str) -> str:
    texts = TITLES.get(code)
    if not texts:
        return fallback
    return texts.get(language()) or texts["en"]


def problem_body(status: int, code: str, detail: str | None, title: str, **extra) -> dict:
    """The problem+json document, the same for every service and the gateway."""
    body = {"type": f"/problems/{code}", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    rid = context.current().request_id
    if rid:
        body["request_id"] = rid
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra,
) -> Response:
    body = problem_body(
        status, code, detail, title or title_for(code, code.replace("_", " ").capitalize()), **extra
    )
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=CONTENT_TYPE)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _flatten(messages, prefix: str = "") -> list[dict]:
    """webargs/marshmallow's nested messages -> [{name, reason}] with dotted field names."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.append({"name": prefix or "body", "reason": "; ".join(messages)})
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.extend(_flatten(value, f"{prefix}[{i}]"))
    else:
        out.append({"name": prefix or "body", "reason": str(messages)})
    return out


_LOCATIONS = ("json", "query", "form", "headers", "files", "path", "view_args")


def _invalid_params(messages) -> list[dict]:
    params = []
    for entry in _flatten(messages):
        head, _, rest = entry["name"].partition(".")
        if head in _LOCATIONS:
            entry = {"name": rest or "body", "reason": entry["reason"], "in": head}
        if entry["name"] == "_schema":
            entry["name"] = "body"
        params.append(entry)
    return params


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if messages:
        params = _invalid_params(messages)
        if any("Invalid JSON body" in p["reason"] for p in params):
            return problem_response(400, "malformed_json", headers=headers)
        return problem_response(422, "validation_failed", invalid_params=params, headers=headers)
    code = _STATUS_CODES.get(status, "error" if status < 500 else "internal_error")
    detail = None if status >= 500 else exc.description
    return problem_response(status, code, detail, headers=headers)


def handle_problem(exc: Problem) -> Response:
    return problem_response(
        exc.status, exc.code, exc.detail, title=exc.title, headers=exc.headers, **exc.extra
    )


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error")
    return problem_response(500, "internal_error")


def install(app: Flask) -> None:
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)

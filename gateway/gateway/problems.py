"""problem+json answers in the services' shape (edu_common.web.problems), for aiohttp."""

from __future__ import annotations

import json

from aiohttp import web
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from edu_common.web.problems import CONTENT_TYPE, TITLES, problem_body

# The gateway's own codes; the services' titles (edu_common) are used for the shared ones.
GATEWAY_TITLES: dict[str, dict[str, str]] = {
    "invalid_token": {
        "en": "The access token is not valid. Sign in again.",
        "ru": "Токен доступа недействителен. Войдите снова.",
        "kk": "Қол жеткізу токені жарамсыз. Қайта кіріңіз.",
    },
    "token_expired": {
        "en": "The session has expired. Sign in again.",
        "ru": "Сеанс истёк. Войдите снова.",
        "kk": "Сеанс мерзімі өтті. Қайта кіріңіз.",
    },
    "bad_request": {
        "en": "The request is malformed.",
        "ru": "Некорректный запрос.",
        "kk": "Сұраныс қате құрылған.",
    },
    "bad_path": {
        "en": "The address is not valid.",
        "ru": "Недопустимый адрес.",
        "kk": "Мекенжай жарамсыз.",
    },
    "method_not_allowed": {
        "en": "This method is not allowed here.",
        "ru": "Этот метод здесь не допускается.",
        "kk": "Бұл әдіске мұнда рұқсат жоқ.",
    },
    "request_timeout": {
        "en": "The request took too long to arrive.",
        "ru": "Запрос передавался слишком долго.",
        "kk": "Сұраныс тым ұзақ жіберілді.",
    },
    "headers_too_large": {
        "en": "The request headers are too large.",
        "ru": "Слишком большие заголовки запроса.",
        "kk": "Сұраныс тақырыптары тым үлкен.",
    },
    "bad_gateway": {
        "en": "The service could not be reached. Try again later.",
        "ru": "Сервис недоступен. Повторите позже.",
        "kk": "Қызметке қосылу мүмкін болмады. Кейінірек қайталаңыз.",
    },
    "upstream_timeout": {
        "en": "The service took too long to answer. Try again later.",
        "ru": "Сервис не ответил вовремя. Повторите позже.",
        "kk": "Қызмет уақытында жауап бермеді. Кейінірек қайталаңыз.",
    },
    "service_unavailable": {
        "en": "The service is temporarily unavailable. Try again later.",
        "ru": "Сервис временно недоступен. Повторите позже.",
        "kk": "Қызмет уақытша қолжетімсіз. Кейінірек қайталаңыз.",
    },
    "cors_origin_not_allowed": {
        "en": "Requests from this site are not allowed.",
        "ru": "Запросы с этого сайта не разрешены.",
        "kk": "Бұл сайттан сұраныстарға рұқсат жоқ.",
    },
}

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    429: "too_many_requests",
    431: "headers_too_large",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "upstream_timeout",
}


def language(accept_language: str | None) -> str:
    """kk, ru or en by Accept-Language, as the services choose (ru when nothing matches)."""
    if not accept_language:
        return "ru"
    best = parse_accept_header(accept_language, LanguageAccept).best_match(["kk", "ru", "en"])
    return best or "ru"


def title_for(code: str, lang: str) -> str:
    texts = GATEWAY_TITLES.get(code) or TITLES.get(code)
    if not texts:
        return code.replace("_", " ").capitalize()
    return texts.get(lang) or texts["en"]


def problem(
    status: int,
    code: str | None = None,
    detail: str | None = None,
    *,
    accept_language: str | None = None,
    headers: dict[str, str] | None = None,
    **extra,
) -> web.Response:
    code = code or STATUS_CODES.get(status, "error" if status < 500 else "internal_error")
    body = problem_body(status, code, detail, title_for(code, language(accept_language)), **extra)
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type=CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


class GatewayProblem(Exception):
    """Raise anywhere in a request: becomes a problem+json answer."""

    def __init__(self, status: int, code: str | None = None, detail: str | None = None, **kw):
        super().__init__(code or status)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = kw.pop("headers", None)
        self.extra = kw

    def response(self, accept_language: str | None) -> web.Response:
        return problem(
            self.status,
            self.code,
            self.detail,
            accept_language=accept_language,
            headers=self.headers,
            **self.extra,
        )

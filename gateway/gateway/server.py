"""How gunicorn runs the app: `gunicorn -c python:gateway.gunicorn_conf gateway.server:runner`.

aiohttp answers requests it cannot parse (bad request line, headers too long or too many)
itself, in text/plain. Here those answers become problem+json like every other error, and a
connection that has not sent a complete first request within GATEWAY_HEADER_TIMEOUT is closed
(slow clients holding sockets open).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from gateway import metrics
from gateway.app import create_app
from gateway.config import load
from gateway.problems import problem

log = logging.getLogger("gateway.protocol")


class ProblemRequestHandler(RequestHandler):
    header_timeout = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._first_request_deadline = asyncio.get_running_loop().call_later(
            self.header_timeout, self._too_slow
        )

    def connection_lost(self, exc: BaseException | None) -> None:
        deadline = getattr(self, "_first_request_deadline", None)
        if deadline is not None:
            deadline.cancel()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        if self._request_count == 0 and self.transport is not None:
            metrics.REJECTED.labels("slow_headers").inc()
            self.transport.close()

    def handle_error(self, request, status=500, exc=None, message=None) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already being sent")
        if status >= 500:
            log.error("error handling a request", exc_info=exc)
            resp = problem(status)
        else:
            # Client errors: a warning without the traceback (nothing of ours went wrong).
            log.warning("unparseable request: %s", exc.__class__.__name__ if exc else status)
            if isinstance(exc, LineTooLong):
                status, code = 431, "headers_too_large"
            else:
                code = "bad_request"
            metrics.REJECTED.labels(code).inc()
            resp = problem(status, code, accept_language=None)
        resp.force_close()
        return resp


class ProblemServer(Server):
    def __call__(self) -> RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    async def _make_server(self) -> Server:
        server = await super()._make_server()
        # Same object, our handler factory: Server has no hook for the handler class.
        server.__class__ = ProblemServer
        return server


async def runner() -> web.AppRunner:
    """gunicorn's aiohttp worker awaits this and serves the runner on its sockets."""
    settings = load()
    ProblemRequestHandler.header_timeout = settings.header_timeout
    return GatewayRunner(
        create_app(settings),
        keepalive_timeout=settings.keepalive,
        access_log=None,  # the gateway writes its own JSON access line
        shutdown_timeout=15,
    )

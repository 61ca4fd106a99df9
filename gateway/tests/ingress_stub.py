"""A stand-in Ingress in front of the gateway, run as its own process: it forwards every
request and appends the address of its peer to X-Forwarded-For, as nginx's
`$proxy_add_x_forwarded_for` does (so a client's own X-Forwarded-For arrives too, to the left).
It connects to the gateway from SOURCE_ADDRESS, so the gateway can tell the Ingress from the
client.

    python ingress_stub.py PORT GATEWAY_URL SOURCE_ADDRESS
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web

PORT, UPSTREAM, SOURCE = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


async def startup(app: web.Application) -> None:
    connector = aiohttp.TCPConnector(local_addr=(SOURCE, 0))
    app["client"] = aiohttp.ClientSession(connector=connector, auto_decompress=False)


async def cleanup(app: web.Application) -> None:
    await app["client"].close()


async def handle(request: web.Request) -> web.StreamResponse:
    if request.path == "/ingress/healthz":
        return web.json_response({"status": "ok"})
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
    before = request.headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{before}, {request.remote}" if before else request.remote
    headers["X-Forwarded-Proto"] = "https"  # TLS ends here
    body = await request.read()
    async with request.app["client"].request(
        request.method,
        UPSTREAM + request.raw_path,
        headers=headers,
        data=body or None,
        allow_redirects=False,
    ) as resp:
        payload = await resp.read()
        out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP}
        return web.Response(status=resp.status, body=payload, headers=out)


app = web.Application()
app.on_startup.append(startup)
app.on_cleanup.append(cleanup)
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)

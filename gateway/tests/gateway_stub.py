"""A stand-in upstream for the gateway's tests, run as its own process.

    python gateway_stub.py PORT NAME [JWKS_FILE]

GET /healthz, /openapi.json; /.well-known/jwks.json from JWKS_FILE (re-read each time, so a
test can rotate keys); /stats counts JWKS fetches; /slow?s=2 sleeps; /status/<n> answers n;
anything else echoes what arrived (method, path, query, headers, body length) as JSON.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web

PORT, NAME = int(sys.argv[1]), sys.argv[2]
JWKS = Path(sys.argv[3]) if len(sys.argv) > 3 else None
stats = {"jwks": 0}

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": NAME, "version": "1"},
    "tags": [{"name": "things"}],
    "paths": {
        "/things/{id}": {
            "get": {
                "tags": ["things"],
                "operationId": "get_thing",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        },
                    }
                },
            }
        }
    },
    "components": {"schemas": {"Thing": {"type": "object"}}},
}


async def handle(request: web.Request) -> web.StreamResponse:
    path = request.path
    if path == "/healthz":
        return web.json_response({"status": "ok", "instance": NAME})
    if path == "/openapi.json":
        return web.json_response(OPENAPI)
    if path == "/.well-known/jwks.json" and JWKS is not None:
        stats["jwks"] += 1
        return web.Response(body=JWKS.read_bytes(), content_type="application/json")
    if path == "/stats":
        return web.json_response(stats)
    if path == "/slow":
        await asyncio.sleep(float(request.query.get("s", "2")))
    if path.startswith("/status/"):
        return web.json_response({"instance": NAME}, status=int(path.rsplit("/", 1)[1]))
    body = await request.read()
    return web.json_response(
        {
            "instance": NAME,
            "method": request.method,
            "raw_path": request.raw_path,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body_length": len(body),
        },
        headers={"Access-Control-Allow-Origin": "*", "X-Upstream": NAME},
    )


app = web.Application(client_max_size=8 * 1024 * 1024)
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)

"""GET /openapi.json: every service's OpenAPI document under its gateway prefix, merged;
GET /docs: Swagger UI over it, from the files of the swagger-ui-bundle package (no CDN)."""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from gateway.problems import GatewayProblem

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SWAGGER = Path(str(swagger_ui_path))
_SWAGGER_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"}
)
_SECTIONS = ("schemas", "responses", "parameters", "requestBodies", "headers", "examples")


def _rename_refs(node, renames: dict[str, str]):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = renames[value]
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def merge(documents: dict[str, dict], missing: list[str]) -> dict:
    """Paths under /api/<name>; components prefixed with the service's name so two services'
    `Account` never collide; tags prefixed likewise; one shared bearer scheme."""
    merged: dict = {
        "openapi": "3.0.3",
        "info": {
            "title": "Education e-services platform",
            "version": "1",
            "description": "Every service's API as web clients reach it, through the gateway. "
            "Errors are application/problem+json.",
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "tags": [],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
    }
    if missing:
        merged["info"]["x-unavailable"] = missing
    for name, doc in documents.items():
        renames = {}
        for section in _SECTIONS:
            for key in doc.get("components", {}).get(section) or {}:
                renames[f"#/components/{section}/{key}"] = f"#/components/{section}/{name}.{key}"
        doc = _rename_refs(doc, renames)
        for section in _SECTIONS:
            for key, value in (doc.get("components", {}).get(section) or {}).items():
                merged["components"].setdefault(section, {})[f"{name}.{key}"] = value
        tag_names = {}
        for tag in doc.get("tags") or []:
            tag_names[tag["name"]] = f"{name}: {tag['name']}"
            merged["tags"].append({**tag, "name": tag_names[tag["name"]]})
        for path, item in (doc.get("paths") or {}).items():
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["tags"] = [
                        tag_names.get(t, f"{name}: {t}") for t in operation.get("tags", [])
                    ] or [name]
                    if "operationId" in operation:
                        operation["operationId"] = f"{name}.{operation['operationId']}"
            merged["paths"][f"/api/{name}{path}"] = item
    return merged


class Docs:
    def __init__(self, upstreams, cache_seconds: float):
        self.upstreams = upstreams
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, bytes] | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self, upstream) -> dict | None:
        client = self.upstreams.client
        for instance in upstream.candidates():
            try:
                async with client.get(
                    f"{instance.url}/openapi.json", timeout=aiohttp.ClientTimeout(total=3)
                ) as resp:
                    if resp.status == 200:
                        return await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("no OpenAPI from %s: %s", instance.url, exc.__class__.__name__)
        return None

    async def merged_response(self) -> web.Response:
        async with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self.cache_seconds:
                ups = list(self.upstreams.by_name.values())
                found = await asyncio.gather(*(self._fetch(u) for u in ups))
                documents = {u.name: d for u, d in zip(ups, found, strict=True) if d}
                missing = [u.name for u, d in zip(ups, found, strict=True) if not d]
                body = json.dumps(merge(documents, missing), ensure_ascii=False).encode()
                # A partial document is kept only briefly: the missing service may be starting.
                self._cached = (now - (self.cache_seconds - 5 if missing else 0), body)
            body = self._cached[1]
        return web.Response(
            body=body, content_type="application/json", headers={"Cache-Control": "no-cache"}
        )

    def page(self) -> web.Response:
        return web.Response(
            body=(STATIC / "docs.html").read_bytes(),
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    def static(self, name: str) -> web.Response:
        if name in _SWAGGER_FILES:
            path = SWAGGER / name
        elif name == "docs.js":
            path = STATIC / "docs.js"
        else:
            raise GatewayProblem(404, "not_found")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(
            body=path.read_bytes(),
            content_type=content_type,
            headers={"Cache-Control": "public, max-age=3600"},
        )

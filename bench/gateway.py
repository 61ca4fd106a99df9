"""The gateway's cost: one cheap authenticated GET, measured with wrk directly at the service,
through nginx (a plain keep-alive reverse proxy: the baseline) and through the gateway, in one
run on this machine. Then a py-spy profile of the gateway under the same load.

Needs wrk and nginx from Debian: `apt-get install -y wrk nginx`. py-spy (requirements/dev.txt)
for the profile; without it that row is skipped.

The upstream is a real service stack (edu_common's Flask app factory under the services'
gunicorn settings, the token checked by the shared TokenVerifier) with one trivial
authenticated endpoint, so the figures are about the proxies, not a database.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    VENV_BIN,
    BenchError,
    CpuMeter,
    Row,
    background_load,
    children,
    free_port,
    stop,
    tail,
    wait_for_port,
    workdir,
)

NAME = "gateway"
ROOT = Path(__file__).resolve().parents[1]
PATH = "/bench/ping"


# --- the upstream: a service with one cheap authenticated GET --------------------------------
def upstream_app():
    """gunicorn -c python:edu_common.gunicorn_conf 'bench.gateway:upstream_app()'."""
    import jwt
    from flask import jsonify

    from edu_common.web import auth
    from edu_common.web.app import create_service_app

    app, _api = create_service_app(service="bench-upstream", title="bench upstream")
    jwks = Path(os.environ["BENCH_JWKS_FILE"]).read_text()
    keys = {k["kid"]: jwt.PyJWK(k, algorithm="EdDSA").key for k in json.loads(jwks)["keys"]}

    class FileKeys(auth.KeySource):
        # Not JwksKeySource: fetching its own JWKS over HTTP from inside a busy worker can
        # leave every thread waiting for a free one.
        def key_for(self, kid):
            return keys.get(kid)

    auth.configure(auth.TokenVerifier(FileKeys()))

    @app.get("/.well-known/jwks.json")
    def _jwks():
        return app.response_class(jwks, mimetype="application/json")

    @app.get(PATH)
    @auth.require()
    def _ping():
        return jsonify(ok=True, account=auth.current_principal().account_id)

    return app


def make_keys(base: Path) -> str:
    """A signing key, its JWKS file for the upstream to serve, and one access token."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    (base / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "bench", "alg": "EdDSA"}]}))
    now = int(time.time())
    claims = {
        "iss": "edu-identity",
        "aud": "edu-platform",
        "sub": "bench-account",
        "iat": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "roles": ["citizen"],
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "bench"})


# --- processes ------------------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path


def start(argv: list[str], env: dict, port: int, log: Path, user: str | None = None) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            user=user,
        )  # fmt: skip
    wait_for_port(port, proc, 30, log)
    return Server(proc, port, log)


NGINX_CONF = """
worker_processes {workers};
pid {base}/nginx.pid;
error_log {base}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {base}/nginx-body;
    proxy_temp_path {base}/nginx-proxy;
    fastcgi_temp_path {base}/nginx-fastcgi;
    uwsgi_temp_path {base}/nginx-uwsgi;
    scgi_temp_path {base}/nginx-scgi;
    upstream service {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://service;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def start_nginx(base: Path, upstream: int, workers: int) -> Server:
    port = free_port()
    conf = base / "nginx.conf"
    conf.write_text(NGINX_CONF.format(base=base, upstream=upstream, port=port, workers=workers))
    # Unprivileged: as root we hand it to nobody (nginx's own default user for workers).
    user = "nobody" if os.geteuid() == 0 else None
    if user:
        base.chmod(0o777)
        conf.chmod(0o644)
    argv = [shutil.which("nginx"), "-e", str(base / "nginx-error.log"), "-c", str(conf),
            "-p", str(base), "-g", "daemon off;"]  # fmt: skip
    return start(argv, {}, port, base / "nginx.log", user=user)


# --- load -----------------------------------------------------------------------------------
@dataclass
class Result:
    rps: float
    p50: float  # ms
    p99: float
    errors: int
    proxy_cpu_ms: float = 0.0  # CPU per request of the proxy's processes (all of them)
    upstream_cpu_ms: float = 0.0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def wrk(url: str, token: str, seconds: int, connections: int) -> Result:
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(rps, p50, p99, errors)


def profile(pids: list[int], seconds: int, base: Path) -> tuple[str, str]:
    """py-spy's samples of the gateway workers: the share of busy samples inside each part
    of a request (inclusive), and the hottest leaf functions."""
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        return "py-spy not installed", ""
    inclusive: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    samples = 0
    for pid in pids:
        raw = base / f"profile-{pid}.txt"
        subprocess.run(
            [str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250",
             "--format", "raw", "--output", str(raw), "--nonblocking"],
            capture_output=True, timeout=seconds + 60, check=False,
        )  # fmt: skip
        if not raw.exists():
            continue
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            n = int(count)
            samples += n
            for part, marks in _PARTS:
                if any(m in stack for m in marks):
                    inclusive[part] += n
            leaves[stack.split(";")[-1].split(" (")[0]] += n
    if not samples:
        return "no samples", ""
    parts = "; ".join(f"{part} {100 * inclusive[part] / samples:.0f}%" for part, _ in _PARTS)
    hot = "; ".join(f"{fn} {100 * n / samples:.0f}%" for fn, n in leaves.most_common(5))
    return parts, hot


# Parts of a request, found by a function on the sampled stack (inclusive time).
_PARTS = [
    ("gateway handler (all of it)", ("handle (gateway/app.py",)),
    ("token check", ("principal (gateway/auth.py",)),
    ("upstream call", ("forward (gateway/proxy.py",)),
    ("access log", ("write (gateway/access_log.py",)),
    ("metrics", ("prometheus_client",)),
    ("aiohttp server outside the handler", ("web_protocol.py",)),
]


def run(seconds: int = 10, connections: int = 16, log=print) -> list[Row]:
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing:
        raise BenchError(
            f"{' and '.join(missing)} not found: install with `apt-get install -y wrk nginx`"
        )
    busy = background_load()
    if busy > 0.25:
        log(f"gateway: WARNING other work keeps {busy:.1f} cores busy: figures will be low")
    workers = int(os.environ.get("BENCH_GATEWAY_WORKERS", "2"))
    rows: list[Row] = []
    with workdir(NAME) as base, contextlib.ExitStack() as stack:
        token = make_keys(base)
        servers: list[Server] = []
        stack.callback(lambda: [stop(s.proc) for s in reversed(servers)])
        up_port = free_port()
        prom = base / "prom"
        prom.mkdir()
        upstream = start(
            [str(VENV_BIN / "gunicorn"), "--config", "python:edu_common.gunicorn_conf",
             "bench.gateway:upstream_app()"],
            {"PORT": str(up_port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "4",
             "LOG_LEVEL": "WARNING", "PROMETHEUS_MULTIPROC_DIR": str(prom),
             "BENCH_JWKS_FILE": str(base / "jwks.json")},
            up_port, base / "upstream.log",
        )  # fmt: skip
        servers.append(upstream)
        nginx = start_nginx(base, up_port, workers)
        servers.append(nginx)

        def gateway(cache: bool, processes: int = workers) -> Server:
            port = free_port()
            gprom = base / f"gprom-{port}"
            gprom.mkdir()
            server = start(
                [str(VENV_BIN / "gunicorn"), "--config", "python:gateway.gunicorn_conf",
                 "gateway.server:runner"],
                {"PORT": str(port), "WEB_CONCURRENCY": str(processes), "LOG_LEVEL": "INFO",
                 "GATEWAY_UPSTREAMS": f"bench=http://127.0.0.1:{up_port}",
                 "IDENTITY_JWKS_URL": f"http://127.0.0.1:{up_port}/.well-known/jwks.json",
                 "GATEWAY_RATE_PER_ADDRESS": "1000000/1000000",
                 "GATEWAY_RATE_PER_ACCOUNT": "1000000/1000000",
                 "GATEWAY_TOKEN_CACHE_SIZE": "50000" if cache else "0",
                 "PROMETHEUS_MULTIPROC_DIR": str(gprom)},
                port, base / f"gateway-{port}.log",
            )  # fmt: skip
            servers.append(server)
            _wait_ready(server)
            return server

        # The gateways' access logs are on (as in production) and go to their log files.
        gateways = {"gateway": gateway(cache=True)}
        if workers != 1:
            gateways["gateway, 1 worker"] = gateway(cache=True, processes=1)
        gateways["gateway, no token cache"] = gateway(cache=False)
        gw = gateways["gateway"]
        targets = {
            "direct": f"http://127.0.0.1:{up_port}{PATH}",
            "nginx": f"http://127.0.0.1:{nginx.port}{PATH}",
            **{n: f"http://127.0.0.1:{g.port}/api/bench{PATH}" for n, g in gateways.items()},
        }
        proxies = {
            "direct": [],
            "nginx": [nginx.proc.pid, *children(nginx.proc.pid)],
            **{n: [g.proc.pid, *children(g.proc.pid)] for n, g in gateways.items()},
        }
        upstream_pids = [upstream.proc.pid, *children(upstream.proc.pid)]

        def measure(name: str, url: str, secs: int, conns: int) -> Result:
            with CpuMeter({"proxy": proxies[name], "upstream": upstream_pids}) as cpu:
                r = wrk(url, token, secs, conns)
            done = max(1.0, r.rps * cpu.seconds)
            r.proxy_cpu_ms = 1000 * cpu.used["proxy"] / done
            r.upstream_cpu_ms = 1000 * cpu.used["upstream"] / done
            return r

        results: dict[str, Result] = {}
        single: dict[str, Result] = {}
        for name, url in targets.items():
            wrk(url, token, 2, connections)  # warm-up: pools filled, keys fetched
            results[name] = measure(name, url, seconds, connections)
            # One connection, one request at a time: latency without queueing in the upstream.
            single[name] = measure(name, url, max(3, seconds // 2), 1)
            for shown, r in (
                (f"{name} -c{connections}", results[name]),
                (f"{name} -c1", single[name]),
            ):
                log(
                    f"gateway: {shown}: {r.rps:,.0f} req/s, p50 {r.p50:.2f} ms, p99 {r.p99:.2f} "
                    f"ms; CPU/req upstream {r.upstream_cpu_ms:.2f}, proxy {r.proxy_cpu_ms:.2f} ms"
                )
                # A few wrk timeouts happen when the machine is shared; many mean a fault.
                if r.errors > 0.05 * r.rps * seconds:
                    raise BenchError(f"{shown}: {r.errors} failed requests:\n{tail(gw.log)}")

        # The profile: the gateway under the same load, sampled by py-spy (run apart, since
        # sampling costs CPU the measured runs must not lose).
        load = subprocess.Popen(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H",
             f"Authorization: Bearer {token}", targets["gateway"]],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1)
        profile_note, hot = profile(children(gw.proc.pid), max(3, seconds - 4), base)
        load.wait()
        log(f"gateway: profile: {profile_note}; hottest: {hot}")

    rows += _rows(results, f"wrk -t2 -c{connections} -d{seconds}s", workers)
    rows += _rows(single, "wrk -t1 -c1: one request at a time", workers)
    nothing = float("nan")  # a row that is all note
    rows.append(Row(NAME, "gateway profile: share of samples", nothing, "", "", profile_note))
    rows.append(Row(NAME, "gateway profile: hottest functions", nothing, "", "", hot))
    return rows


def _rows(results: dict[str, Result], load: str, workers: int) -> list[Row]:
    rows = []
    nginx, direct = results["nginx"], results["direct"]
    for name, r in results.items():
        versus = f"{r.rps / nginx.rps:.2f}x (nginx)"
        if name == "direct":
            note = f"{load}; {workers} workers each for nginx and the gateway"
        elif name == "nginx":
            note = f"p50 {r.p50 - direct.p50:+.2f} ms vs direct"
        else:
            note = f"p50 {r.p50 - nginx.p50:+.2f} ms vs nginx, {r.p50 - direct.p50:+.2f} vs direct"
        rows.append(Row(NAME, f"{name} ({load.split(':')[0]})", r.rps, "req/s", versus, note))
        cpu = f"CPU per request: upstream {r.upstream_cpu_ms:.2f} ms"
        if name != "direct":
            cpu += f", {name.split(',')[0]} {r.proxy_cpu_ms:.2f} ms"
        if r.errors:
            cpu += f"; {r.errors} requests failed or timed out"
        rows.append(Row(NAME, f"{name}: p50", r.p50, "ms", "", f"p99 {r.p99:.2f} ms; {cpu}"))
    return rows


def _wait_ready(server: Server) -> None:
    from urllib.request import urlopen

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        url = f"http://127.0.0.1:{server.port}/readyz"
        with contextlib.suppress(OSError), urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"the gateway did not become ready:\n{tail(server.log)}")


if __name__ == "__main__":
    for row in run(log=lambda m: print(m, file=sys.stderr)):
        print(row)

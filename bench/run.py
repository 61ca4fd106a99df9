"""Run every benchmark (or those named) and print one Markdown table for the README.

.venv/bin/python -m bench.run [relay] [login] [gateway] [kindergarten] [notify] [admission]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import time
import traceback
from importlib.metadata import PackageNotFoundError, version

from bench import admission, gateway, kindergarten, login, notify, relay
from bench.common import SECANTUS, Row, background_load, markdown_table, rabbitmqctl

BENCHMARKS = {
    "relay": relay.run,
    "login": login.run,
    "gateway": gateway.run,
    "kindergarten": kindergarten.run,
    "notify": notify.run,
    "admission": admission.run,
}


def _versions() -> str:
    found = [f"Python {platform.python_version()}"]
    for dist in ("pika", "argon2-cffi", "pymongo"):
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{dist} {version(dist)}")
    try:
        status = rabbitmqctl("status")
        found += [ln.strip() for ln in status.splitlines() if ln.startswith("RabbitMQ version")]
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        db = subprocess.run(
            [str(SECANTUS.parent / "python"), "-c", _SECANTUS_VERSION],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        found.append(f"SecantusDB {db.stdout.strip()}")
    except (OSError, subprocess.SubprocessError):
        pass
    return ", ".join(found)


_SECANTUS_VERSION = "from importlib.metadata import version; print(version('secantusdb'))"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)}; all if none")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(f"background load before start: {background_load():.2f} cores (should be ~0)")
    rows: list[Row] = []
    failed = []
    for name in names:
        start = time.monotonic()
        try:
            rows += BENCHMARKS[name](log=log)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        log(f"{name}: {time.monotonic() - start:.0f} s wall time")
    cores = len(os.sched_getaffinity(0))
    print(f"{platform.machine()}, {cores} cores; {_versions()}\n")
    print(markdown_table(rows))
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark needs: a throw-away SecantusDB, a throw-away RabbitMQ vhost, CPU
accounting and the result table."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
SECANTUS = Path(os.environ.get("SECANTUS_BIN") or ROOT / ".venv-db" / "bin" / "secantusd-py")
AMQP_HOST = os.environ.get("BENCH_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("BENCH_AMQP_PORT", "5672"))


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Row:
    bench: str
    measure: str
    value: float
    unit: str
    versus: str = ""  # ratio to the benchmark's baseline, when there is one
    note: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"process exited with {proc.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise BenchError(f"nothing listens on port {port} after {timeout}s:\n{tail(log)}")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Secantus:
    url: str
    pid: int


@contextlib.contextmanager
def secantus(base: Path) -> Iterator[Secantus]:
    """A SecantusDB of our own, on a free port, with its data under `base`."""
    if not SECANTUS.exists():
        raise BenchError(f"SecantusDB is not installed at {SECANTUS}: run `make install`")
    port = free_port()
    log = base / "secantus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SECANTUS), "--port", str(port), "--storage-path", str(base / "db")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, 60, log)
        yield Secantus(f"mongodb://127.0.0.1:{port}/?directConnection=true", proc.pid)
    finally:
        stop(proc)


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout


@contextlib.contextmanager
def rabbit_vhost(prefix: str) -> Iterator[str]:
    """A fresh RabbitMQ virtual host for guest, deleted afterwards; yields its AMQP URL."""
    if shutil.which("rabbitmqctl") is None:
        raise BenchError("rabbitmqctl is needed to make a virtual host")
    vhost = f"bench-{prefix}-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{quote(vhost, safe='')}"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            rabbitmqctl("delete_vhost", vhost)


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many cores were busy, on average, between two machine_ticks() readings."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total * os.cpu_count() if total else 0.0


def background_load(seconds: float = 1.0) -> float:
    """Cores other work keeps busy before a benchmark starts anything (should be ~0)."""
    before = machine_ticks()
    time.sleep(seconds)
    return busy_cores(before, machine_ticks())


def pids_named(comm: str) -> list[int]:
    """Processes whose command name is `comm` (read-only: to account for their CPU)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU used by named groups of processes over a window, and by everything else.

    Other load on a shared machine lowers every rate here; `others` says how much there was."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups
        self.used: dict[str, float] = {}
        self.others = 0.0  # cores, on average
        self.seconds = 0.0

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.groups.items()}

    def __enter__(self) -> CpuMeter:
        self._start = (self._read(), machine_ticks(), time.perf_counter())
        return self

    def __exit__(self, *_exc) -> None:
        after, ticks, now = self._read(), machine_ticks(), time.perf_counter()
        before, ticks_before, start = self._start
        self.seconds = now - start
        self.used = {k: after[k] - before[k] for k in after}
        ours = sum(self.used.values()) / self.seconds if self.seconds else 0.0
        self.others = max(0.0, busy_cores(ticks_before, ticks) - ours)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(rows: list[Row]) -> str:
    header = ["Benchmark", "Measure", "Result", "vs baseline", "Note"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---", "---:", "---:", "---"]) + "|",
    ]
    for r in rows:
        cells = [r.bench, r.measure, f"{fmt(r.value)} {r.unit}", r.versus, r.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)

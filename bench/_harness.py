"""What the benchmarks share: an emulator subprocess, its admin API, the machine, tables.

Every benchmark talks only to 127.0.0.1, starts its servers on port 0 and stops them
in a ``finally``. Nothing here asserts on timings: the scripts print what they measured.
"""

from __future__ import annotations

import os
import platform
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
READY_PREFIX = "Control Room emulator listening on "
WORKSPACE_ID = "bench-ws"
API_KEY = "bench-key"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def first_line(stream: IO[str], timeout: float) -> str:
    """The first line a subprocess prints, or "" when none comes within ``timeout``."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout).strip()
    except queue.Empty:
        return ""


def stop_process(process: subprocess.Popen[str]) -> None:
    """Terminate a subprocess we started; kill it if it does not go in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Emulator:
    """A running emulator: its API base URL and a session for the admin API."""

    process: subprocess.Popen[str]
    api_url: str
    clock_factor: float

    def __post_init__(self) -> None:
        self.origin = self.api_url.rsplit("/api/v1", 1)[0]
        self.admin = requests.Session()
        self.admin.headers["Authorization"] = f"RC-WSKEY {API_KEY}"
        self.api = requests.Session()
        self.api.headers.update(api_headers())

    @property
    def workspace_url(self) -> str:
        return f"{self.api_url}/workspaces/{WORKSPACE_ID}"

    def define_process(self, process_id: str, new_seconds: float, run_seconds: float) -> None:
        body = {
            "id": process_id,
            "name": process_id,
            "new_seconds": new_seconds,
            "run_seconds": run_seconds,
            "outcome": "completed",
        }
        response = self.admin.put(f"{self.origin}/_emulator/processes/{process_id}", json=body)
        response.raise_for_status()

    def seed_runs(
        self, process_id: str, count: int, run_seconds: list[float] | None = None
    ) -> None:
        """Add ``count`` ended runs of the process at once (the emulator's admin API)."""
        body: dict[str, Any] = {"count": count}
        if run_seconds:
            body["run_seconds"] = run_seconds
        url = f"{self.origin}/_emulator/processes/{process_id}/runs"
        self.admin.post(url, json=body).raise_for_status()

    def start_run(self, process_id: str) -> str:
        response = self.api.post(f"{self.workspace_url}/processes/{process_id}/process-runs")
        response.raise_for_status()
        return str(response.json()["id"])

    def request_log(self, method: str | None = None, path: str | None = None) -> list[Any]:
        params = {k: v for k, v in (("method", method), ("path", path)) if v}
        response = self.admin.get(f"{self.origin}/_emulator/requests", params=params)
        response.raise_for_status()
        return list(response.json()["data"])

    def clear_request_log(self) -> None:
        self.admin.delete(f"{self.origin}/_emulator/requests").raise_for_status()

    def reset(self) -> None:
        self.admin.post(f"{self.origin}/_emulator/reset", json={}).raise_for_status()

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def close(self) -> None:
        self.admin.close()
        self.api.close()


def api_headers() -> dict[str, str]:
    return {"Authorization": f"RC-WSKEY {API_KEY}", "Accept": "application/json"}


@contextmanager
def emulator(clock_factor: float = 1.0) -> Iterator[Emulator]:
    """Start ``python -m ProcessRunLibrary.emulator`` on a free port; stop it afterwards."""
    command = [
        PYTHON,
        "-m",
        "ProcessRunLibrary.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--workspace-id",
        WORKSPACE_ID,
        "--api-key",
        API_KEY,
        "--clock-factor",
        str(clock_factor),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    running: Emulator | None = None
    try:
        line = first_line(process.stdout, START_TIMEOUT) if process.stdout else ""
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"The emulator did not start: first line was {line!r}.")
        running = Emulator(process, line[len(READY_PREFIX) :], clock_factor)
        yield running
    finally:
        if running is not None:
            running.close()
        stop_process(process)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def resident_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def busy_cpu_seconds() -> float:
    """CPU time spent by the whole machine, all processes, in seconds (Linux /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def raw_listing(
    session: requests.Session, workspace_url: str, process_id: str, limit: int
) -> list[Any]:
    """The baseline of the listing figures: a plain requests loop that follows ``next``."""
    params: dict[str, Any] | None = {"process_id": process_id, "limit": limit}
    url: str | None = f"{workspace_url}/process-runs"
    runs: list[Any] = []
    while url:
        page = session.get(url, params=params, timeout=30).json()
        runs.extend(page["data"])
        url, params = (page.get("next") if page.get("has_more") else None), None
    return runs


def machine() -> str:
    """One line naming the machine, for the top of every report."""
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"{platform.machine()}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats already formatted by the caller."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def wait_until(deadline: float) -> None:
    """Sleep until the monotonic ``deadline`` (no-op when it has passed)."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)

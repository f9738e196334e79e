"""The emulator's overhead per step run whose step is a real command.

The command is a tiny Python program that prints the time it started. Its own cost (start
the interpreter, print, exit, be reaped) is the baseline, measured in the same run by
starting it directly with subprocess. Through the emulator, one process run of one work
item is timed from the start request until a tight poll (every 5 ms) sees it ended:

* start overhead: start request -> the command's first line, minus the same span when the
  command is started directly;
* end overhead: the rest of the emulator's wall time minus the rest of the baseline's
  (exit noticed, pipes drained, artifacts collected, items settled, run ended, seen by the
  poll: up to 5 ms of the poll's own granularity);
* the emulator's own CPU time per step run (/proc), which does not depend on the machine's
  other load;
* 20 step runs at once (one run of 20 items, `parallel: 20`) against 20 direct starts at
  once, on this 2-core machine.

Target (issue 18): at most 100 ms of emulator overhead per step run.

    .venv/bin/python bench/command_steps.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from _harness import (
    API_KEY,
    PYTHON,
    READY_PREFIX,
    ROOT,
    START_TIMEOUT,
    WORKSPACE_ID,
    first_line,
    machine,
    median,
    process_cpu_seconds,
    stop_process,
    table,
)

CHILD = [PYTHON, "-S", "-c", "import time; print(repr(time.time()), flush=True)"]
POLL = 0.005


@contextmanager
def command_emulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [
        PYTHON, "-m", "ProcessRunLibrary.emulator", "--port", "0", "--workspace-id",
        WORKSPACE_ID, "--api-key", API_KEY, "--allow-commands",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    try:
        line = first_line(process.stdout, START_TIMEOUT) if process.stdout else ""
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"The emulator did not start: first line was {line!r}.")
        yield process, line[len(READY_PREFIX) :]
    finally:
        stop_process(process)


def direct(count: int) -> tuple[float, float]:
    """`count` commands started at once, directly, as the emulator starts them (asyncio):
    (seconds to the first one's line, seconds until all have exited and been reaped)."""

    async def one() -> str:
        child = await asyncio.create_subprocess_exec(*CHILD, stdout=subprocess.PIPE)
        out, _ = await child.communicate()
        return out.decode()

    async def all_of_them() -> list[str]:
        return await asyncio.gather(*(one() for _ in range(count)))

    started = time.time()
    lines = asyncio.run(all_of_them())
    ended = time.time()
    return min(float(line) for line in lines) - started, ended - started


class Client:
    def __init__(self, api_url: str) -> None:
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"RC-WSKEY {API_KEY}"
        self.ws = f"{api_url}/workspaces/{WORKSPACE_ID}"
        self.origin = api_url.rsplit("/api/v1", 1)[0]

    def define(self, parallel: int) -> None:
        step = {"name": "Tiny", "command": CHILD, "parallel": parallel}
        url = f"{self.origin}/_emulator/processes/tiny"
        self.http.put(url, json={"steps": [step]}, timeout=10).raise_for_status()

    def run(self, items: int) -> tuple[float, float, str]:
        """(seconds to the first command's line, seconds until the run is seen ended, id)."""
        body = {"type": "with_payloads", "payloads": [{}] * items}
        started = time.time()
        answer = self.http.post(f"{self.ws}/processes/tiny/process-runs", json=body, timeout=10)
        run_id = answer.json()["id"]
        while self.http.get(f"{self.ws}/process-runs/{run_id}", timeout=10).json()["state"] not in (
            "completed",
            "unresolved",
        ):
            time.sleep(POLL)
        ended = time.time()
        steps = self.http.get(f"{self.ws}/step-runs", params={"process_run_id": run_id}).json()
        first = min(float(self.console(s["id"])[0]) for s in steps["data"] if self.console(s["id"]))
        return first - started, ended - started, run_id

    def console(self, step_run_id: str) -> list[str]:
        answer = self.http.get(f"{self.ws}/step-runs/{step_run_id}/console-messages", timeout=10)
        return [m["message"] for m in answer.json()["data"]]

    def reset(self) -> None:
        self.http.post(f"{self.origin}/_emulator/reset", json={}, timeout=10).raise_for_status()


def sequential(client: Client, pid: int, repeats: int) -> dict[str, Any]:
    client.define(parallel=1)
    base = [direct(1) for _ in range(repeats)]
    cpu_before = process_cpu_seconds(pid)
    emulated = [client.run(1)[:2] for _ in range(repeats)]
    cpu = (process_cpu_seconds(pid) - cpu_before) / repeats
    # Every first line came from an interpreter start: its median is the same in both.
    base_first, base_total = median([b[0] for b in base]), median([b[1] for b in base])
    first, total = median([e[0] for e in emulated]), median([e[1] for e in emulated])
    start_overhead = first - base_first
    end_overhead = (total - first) - (base_total - base_first)
    return {
        "command alone (ms)": base_total * 1000,
        "through the emulator (ms)": total * 1000,
        "start overhead (ms)": start_overhead * 1000,
        "end overhead (ms)": end_overhead * 1000,
        "overhead (ms)": (total - base_total) * 1000,
        "p90 through the emulator (ms)": statistics.quantiles([e[1] for e in emulated], n=10)[-1]
        * 1000,
        "emulator CPU per step run (ms)": cpu * 1000,
    }


def parallel(client: Client, pid: int, count: int, tries: int) -> dict[str, Any]:
    """Medians of `tries`, the direct starts and the emulator's runs taking turns."""
    client.reset()
    client.define(parallel=count)
    base, emulated, cpu = [], [], 0.0
    for _ in range(tries):
        base.append(direct(count)[1])
        cpu_before = process_cpu_seconds(pid)
        emulated.append(client.run(count)[1])
        cpu += process_cpu_seconds(pid) - cpu_before
    base_total, total = median(base), median(emulated)
    return {
        f"{count} commands alone (ms)": base_total * 1000,
        f"{count} step runs at once (ms)": total * 1000,
        "overhead per step run (ms)": (total - base_total) * 1000 / count,
        "emulator CPU per step run (ms)": cpu / tries / count * 1000,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and rounds")
    args = parser.parse_args(argv)
    repeats, rounds = (10, 1) if args.quick else (30, 3)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# Command steps: the emulator's overhead per step run\n\n{machine()}")
    print(f"Load average before: {load} (the wall times are only as quiet as the machine)\n")
    seq_rows, par_rows = [], []
    with command_emulator() as (process, api_url):
        client = Client(api_url)
        for number in range(1, rounds + 1):
            client.reset()
            seq = sequential(client, process.pid, repeats)
            seq_rows.append([number, *(f"{v:.1f}" for v in seq.values())])
            par = parallel(client, process.pid, 20, 3 if args.quick else 5)
            par_rows.append([number, *(f"{v:.1f}" for v in par.values())])
    print(f"## One step run at a time (median of {repeats} runs of one item)\n")
    print(table(["round", *seq.keys()], seq_rows))
    print("\n## 20 step runs at once (one run of 20 items, `parallel: 20`; medians)\n")
    print(table(["round", *par.keys()], par_rows))
    print(
        f"\nPolling every {POLL * 1000:.0f} ms adds up to that much to the end overhead. "
        "Target: <= 100 ms of overhead per step run."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Listing many runs: `List Process Runs` against a raw ``requests`` loop that follows
``next``, for 100 and 10,000 runs (pages of 100), in time and in peak memory.

The emulator is seeded with the runs in one admin request (``POST
/_emulator/processes/{id}/runs``), not by starting them. Every strategy reads the same
runs and keeps them all in a list:

* raw requests loop (the baseline): GET a page, keep its ``data``, follow ``next``;
* ControlRoomClient.list_process_runs: the library's client, plain dicts;
* List Process Runs keyword: the keyword, every dictionary a JsonDict (``${run.state}``)
  as the answers are parsed;
* the keyword's runs walked and copied by ``to_dotdict``: the conversion the keyword did
  before its answers were parsed into JsonDicts, for comparison in the same run;
* the keyword's runs as Robot's DotDict: the conversion before JsonDict;
* List Process Runs limit=100: stopping early, one page.

To measure another checkout (before a change): ``PYTHONPATH=<that checkout>/src``.

Time: the median of interleaved repetitions (wall and this process's CPU). Memory:
the peak that ``tracemalloc`` sees while one listing runs (a separate pass, since
tracing slows Python down), the list kept until the peak is read.

    .venv/bin/python bench/long_lists.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from robot.utils import DotDict

from _harness import (
    API_KEY,
    WORKSPACE_ID,
    Emulator,
    api_headers,
    emulator,
    machine,
    median,
    raw_listing,
    table,
)
from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.keywords.context import to_dotdict

PAGE = 100


def dotdict_before(value: Any) -> Any:
    """The conversion before JsonDict: Robot's DotDict, which converts nested dictionaries
    itself."""
    if isinstance(value, dict):
        return DotDict(value)
    if isinstance(value, list):
        return [dotdict_before(v) for v in value]
    return value


@dataclass(frozen=True)
class Strategy:
    label: str
    make: Callable[[str, int], Callable[[], list[Any]]]  # (process, runs) -> one listing


def strategies(emu: Emulator) -> list[Strategy]:
    session = requests.Session()
    session.headers.update(api_headers())
    client = ControlRoomClient(emu.api_url, WORKSPACE_ID, Credentials(API_KEY))
    library = ProcessRunLibrary(api_url=emu.api_url, workspace_id=WORKSPACE_ID, api_key=API_KEY)

    def raw(process: str, _: int) -> Callable[[], list[Any]]:
        def listing() -> list[Any]:
            return raw_listing(session, emu.workspace_url, process, PAGE)

        return listing

    return [
        Strategy("raw requests loop following next (baseline)", raw),
        Strategy(
            "ControlRoomClient.list_process_runs",
            lambda p, _: lambda: client.list_process_runs(p),
        ),
        Strategy("List Process Runs keyword", lambda p, _: lambda: library.list_process_runs(p)),
        Strategy(
            "List Process Runs + to_dotdict copy (before)",
            lambda p, _: lambda: to_dotdict(library.list_process_runs(p)),
        ),
        Strategy(
            "List Process Runs + DotDict (earlier)",
            lambda p, _: lambda: dotdict_before(library.list_process_runs(p)),
        ),
        Strategy(
            "List Process Runs limit=100 (stop early)",
            lambda p, _: lambda: library.list_process_runs(p, limit=100),
        ),
    ]


def run_once(listing: Callable[[], list[Any]]) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    runs = listing()
    return time.perf_counter() - wall, time.process_time() - cpu, len(runs)


def peak_memory(listing: Callable[[], list[Any]]) -> float:
    gc.collect()
    tracemalloc.start()
    runs = listing()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del runs
    return peak / 2**20


def measure(emu: Emulator, counts: list[int], repetitions: int) -> list[tuple[Any, ...]]:
    rows = []
    for count in counts:
        process = f"list-{count}"
        emu.define_process(process, 0.0, 1.0)
        emu.seed_runs(process, count, [1.0])
        plans = [(s, s.make(process, count)) for s in strategies(emu)]
        for _, listing in plans:  # warm-up
            run_once(listing)
        walls: dict[str, list[float]] = {s.label: [] for s, _ in plans}
        cpus: dict[str, list[float]] = {s.label: [] for s, _ in plans}
        found: dict[str, int] = {}
        for _ in range(repetitions):
            for strategy, listing in plans:
                wall, cpu, n = run_once(listing)
                walls[strategy.label].append(wall)
                cpus[strategy.label].append(cpu)
                found[strategy.label] = n
        peaks = {s.label: peak_memory(listing) for s, listing in plans}
        base = plans[0][0].label
        for strategy, _ in plans:
            label = strategy.label
            wall, cpu = median(walls[label]), median(cpus[label])
            rows.append(
                (
                    f"{count:,}",
                    label,
                    f"{found[label]:,}",
                    f"{wall * 1000:,.1f}",
                    f"{wall / median(walls[base]):.2f}x",
                    f"{cpu * 1000:,.1f}",
                    f"{cpu / median(cpus[base]):.2f}x",
                    f"{peaks[label]:,.1f}",
                    f"{peaks[label] / peaks[base]:.2f}x",
                    f"{peaks[label] * 2**20 / max(found[label], 1) / 1024:.1f}",
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 runs, 3 repetitions")
    args = parser.parse_args(argv)
    counts, repetitions = ([100, 1000], 3) if args.quick else ([100, 1000, 10_000], 7)
    print(f"# Long lists\n\nMachine: {machine()}\n")
    started = time.monotonic()
    with emulator() as emu:
        seeded = time.monotonic()
        emu.define_process("seed-timing", 0.0, 1.0)
        emu.seed_runs("seed-timing", 10_000, [1.0])
        seed_seconds = time.monotonic() - seeded
        emu.reset()
        rows = measure(emu, counts, repetitions)
    headers = (
        "runs",
        "strategy",
        "runs read",
        "wall ms (median)",
        "wall vs baseline",
        "client CPU ms",
        "CPU vs baseline",
        "peak MiB (tracemalloc)",
        "memory vs baseline",
        "KiB per run read",
    )
    print(table(headers, rows))
    print(
        f"\nSeeding 10,000 runs through the admin API took {seed_seconds:.2f} s. "
        f"{repetitions} interleaved repetitions; measured in {time.monotonic() - started:.0f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

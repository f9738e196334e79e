"""The transport's own cost, in this process's CPU time, against raw ``requests``:

* one ``GET`` of a process run: ``ControlRoomClient.get_process_run`` against
  ``requests.Session.get(...).json()`` (the same emulator, the same keep-alive);
* a listing of 10,000 runs in pages of 100: ``ControlRoomClient.list_process_runs``
  against a raw loop that follows ``next``.

CPU time, not wall time: the emulator's time is noise here. Each figure is the median
of interleaved repetitions; each ratio is against the raw baseline measured in the same
run. To compare with another checkout: ``PYTHONPATH=<that checkout>/src``.

    .venv/bin/python bench/transport_overhead.py [--gets 500] [--runs 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import requests

from _harness import (
    API_KEY,
    WORKSPACE_ID,
    api_headers,
    emulator,
    machine,
    median,
    raw_listing,
    table,
)
from ProcessRunLibrary.client import ControlRoomClient, Credentials


def cpu(work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gets", type=int, default=500)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"# Transport overhead\n\nMachine: {machine()}\n")
    with emulator() as emu:
        emu.define_process("bench", 0.0, 1.0)
        emu.seed_runs("bench", args.runs, [1.0])
        session = requests.Session()
        session.headers.update(api_headers())
        client = ControlRoomClient(emu.api_url, WORKSPACE_ID, Credentials(API_KEY))
        run_id = client.list_process_runs("bench", limit=1)[0]["id"]
        run_url = f"{emu.workspace_url}/process-runs/{run_id}"

        def raw_gets() -> None:
            for _ in range(args.gets):
                session.get(run_url, timeout=30).json()

        def client_gets() -> None:
            for _ in range(args.gets):
                client.get_process_run(run_id, quiet=True)

        def raw_list() -> list[Any]:
            return raw_listing(session, emu.workspace_url, "bench", 100)

        def client_list() -> list[Any]:
            return client.list_process_runs("bench", quiet=True)

        assert len(raw_list()) == len(client_list()) == args.runs  # and a warm-up
        raw_gets()
        client_gets()
        figures: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name, work in [("raw GET", raw_gets), ("client GET", client_gets),
                               ("raw list", raw_list), ("client list", client_list)]:  # fmt: skip
                figures.setdefault(name, []).append(cpu(work))
    per_get = {k: median(v) / args.gets * 1e6 for k, v in figures.items() if "GET" in k}
    lists = {k: median(v) * 1000 for k, v in figures.items() if "list" in k}
    rows = [
        ("GET of one run", f"{per_get['raw GET']:.0f} µs", f"{per_get['client GET']:.0f} µs",
         f"{per_get['client GET'] / per_get['raw GET']:.2f}x"),
        (f"listing {args.runs:,} runs", f"{lists['raw list']:.0f} ms",
         f"{lists['client list']:.0f} ms", f"{lists['client list'] / lists['raw list']:.2f}x"),
    ]  # fmt: skip
    print(table(("what", "raw requests CPU", "client CPU", "client vs raw"), rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

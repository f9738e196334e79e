"""Requests per polling round when waiting on many runs of one process.

For 1, 10 and 100 runs of one process, `Wait Until Process Runs Complete` (the library's
RunWatcher: one list request a round for the runs of one process) against naive
per-run polling (one GET per unfinished run a round), both on the library's own pause
schedule (PollSchedule, poll_interval 1 s), one after the other against one emulator.
A last scenario waits on 100 runs while 150 newer runs of the same process exist, so
that the runs waited for are not on the first page of the list.

Requests are counted twice: per round by the client's ``request_count`` (rounds are the
calls of ``RunWatcher.poll``, counted by wrapping it, without changing the library) and
per wait in the emulator's request log; the script says when the two disagree.

    .venv/bin/python bench/many_runs.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import requests

from _harness import API_KEY, WORKSPACE_ID, Emulator, api_headers, emulator, machine, table
from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.polling import PollSchedule, Watched
from ProcessRunLibrary.watching import RunWatcher

ENDED = ("completed", "unresolved")
POLL_INTERVAL = 1.0
TIMEOUT = 60.0
ROUND_TARGET = 2  # requests per round for 100 runs
PROCESS_ID = "batch"


@dataclass(frozen=True)
class Scenario:
    runs: int
    newer: int = 0  # runs of the same process started after ours, not waited for

    @property
    def label(self) -> str:
        runs = f"{self.runs} run{'s' if self.runs != 1 else ''}"
        return runs + (f" + {self.newer} newer" if self.newer else "")


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    strategy: str
    per_round: list[int]  # requests of each round
    logged: int  # GETs in the emulator's request log during the wait
    seconds: float

    @property
    def requests(self) -> int:
        return sum(self.per_round)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.per_round)


@contextmanager
def counting_rounds() -> Iterator[list[int]]:
    """Wrap RunWatcher.poll to record the requests of each polling round."""
    rounds: list[int] = []
    original = RunWatcher.poll

    def poll(self: RunWatcher, watched: Iterable[Watched], timeout: float | None = None) -> None:
        before = self.client.request_count
        try:
            original(self, watched, timeout)
        finally:
            rounds.append(self.client.request_count - before)

    with mock.patch.object(RunWatcher, "poll", poll):
        yield rounds


def library_wait(emu: Emulator, ids: list[str]) -> list[int]:
    library = ProcessRunLibrary(
        api_url=emu.api_url,
        workspace_id=WORKSPACE_ID,
        api_key=API_KEY,
        poll_interval=POLL_INTERVAL,
        timeout=TIMEOUT,
    )
    with counting_rounds() as rounds:
        runs = library.wait_until_process_runs_complete(ids)
    assert all(run["state"] in ENDED for run in runs)
    return rounds


def naive_wait(emu: Emulator, ids: list[str]) -> list[int]:
    """One GET per unfinished run a round, on the library's pause schedule."""
    session = requests.Session()
    session.headers.update(api_headers())
    schedule, pending, rounds = PollSchedule(POLL_INTERVAL), list(ids), []
    deadline = time.monotonic() + TIMEOUT
    while pending and time.monotonic() < deadline:
        states = {i: get_state(session, emu, i) for i in pending}
        rounds.append(len(pending))
        pending = [i for i in pending if states[i] not in ENDED]
        if pending:
            time.sleep(schedule.next_pause())
    session.close()
    if pending:
        raise TimeoutError(f"{len(pending)} runs did not end in {TIMEOUT:g} s")
    return rounds


def get_state(session: requests.Session, emu: Emulator, run_id: str) -> str:
    response = session.get(f"{emu.workspace_url}/process-runs/{run_id}", timeout=10)
    response.raise_for_status()
    return str(response.json()["state"])


STRATEGIES: dict[str, Any] = {
    "library (RunWatcher)": library_wait,
    "naive per-run GET (baseline)": naive_wait,
}


def measure(emu: Emulator, scenario: Scenario, strategy: str) -> Result:
    emu.reset()
    ids = [emu.start_run(PROCESS_ID) for _ in range(scenario.runs)]
    for _ in range(scenario.newer):
        emu.start_run(PROCESS_ID)
    emu.clear_request_log()
    started = time.monotonic()
    per_round = STRATEGIES[strategy](emu, ids)
    seconds = time.monotonic() - started
    logged = len(emu.request_log(method="GET"))
    return Result(scenario, strategy, per_round, logged, seconds)


def report(results: Sequence[Result]) -> str:
    baseline = {r.scenario: r for r in results if "baseline" in r.strategy}
    rows = []
    for r in results:
        base = baseline[r.scenario]
        rows.append(
            (
                r.scenario.label,
                r.strategy,
                len(r.per_round),
                r.requests,
                f"{r.mean:.2f}",
                max(r.per_round),
                r.per_round[0],
                f"{r.requests / base.requests:.3f}x",
                f"{r.seconds:.1f}",
            )
        )
    headers = (
        "waiting on",
        "strategy",
        "rounds",
        "requests",
        "requests/round mean",
        "max in a round",
        "first round",
        "requests vs baseline",
        "wait (s)",
    )
    return table(headers, rows)


def verdict(results: Sequence[Result]) -> str:
    lines = []
    for r in results:
        if r.strategy.startswith("library") and r.scenario.runs == 100:
            met = "met" if max(r.per_round) <= ROUND_TARGET else "NOT met"
            lines.append(
                f"- {r.scenario.label}: the most requests in one round was {max(r.per_round)} "
                f"(target <= {ROUND_TARGET}): {met}."
            )
        if r.logged != r.requests:
            lines.append(
                f"- {r.scenario.label}, {r.strategy}: the emulator logged {r.logged} GETs, "
                f"the client counted {r.requests}."
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="runs of 1.5 s instead of 4 s")
    args = parser.parse_args(argv)
    run_seconds = 1.5 if args.quick else 4.0
    scenarios = [Scenario(1), Scenario(10), Scenario(100), Scenario(100, newer=150)]
    print(f"# Many runs\n\nMachine: {machine()}")
    print(
        f"Process: new 0.5 s, then in progress {run_seconds:g} s; "
        f"poll_interval {POLL_INTERVAL:g} s.\n"
    )
    results = []
    with emulator() as emu:
        emu.define_process(PROCESS_ID, 0.5, run_seconds)
        for scenario in scenarios:
            for strategy in STRATEGIES:
                results.append(measure(emu, scenario, strategy))
    print(report(results))
    print("\nRequests of each round:")
    for r in results:
        print(f"- {r.scenario.label}, {r.strategy}: {', '.join(map(str, r.per_round))}")
    print()
    print(verdict(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

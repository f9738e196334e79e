"""The predictive schedule on a fake clock, over many random histories: what the
detection-lag benchmark's 5 waits per row measure, without their luck of the draw.

For runs of D x random(0.9 .. 1.1) with a history of 5 such runs, a single-run wait
(a GET, then the history through the list 0.1 s later) against today's PollSchedule;
no request latency, no emulator. Prints mean requests and mean lag per poll_interval.
Then the first wait on a process (issue 19): no history at all, no history but 3 other
runs of D x random(0.9 .. 1.1) started D/2 before (read through the list at every
poll, as the library does while they go), and a wait that begins D/2 after its run was
created, against fixed 8 s polling from the run's creation.

    .venv/bin/python bench/schedule_simulation.py [--draws 2000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from datetime import datetime, timezone

from _harness import table
from ProcessRunLibrary.polling import History, PollSchedule, PredictiveSchedule, Watched


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def predicted(
    lengths: list[float], ends: float, poll_interval: float, rng: random.Random
) -> tuple[int, float]:
    history = History(clock=lambda: 0.0)
    history.note(
        {"id": str(i), "state": "completed", "process": {"id": "p"},
         "created_at": iso(i), "ended_at": iso(i + s)}
        for i, s in enumerate(lengths)
    )  # fmt: skip
    history.read("p")
    clock = Clock()
    watched = Watched("r", process_hint="p", created_hint=0.0)
    schedule = PredictiveSchedule(poll_interval, [watched], history, rng=rng.random, clock=clock)
    requests, clock.now = 2, 0.1  # the GET at 0, the list at 0.1 s
    while clock.now < ends:
        clock.now += schedule.next_pause()
        requests += 1
    return requests, clock.now - ends


def today(ends: float, rng: random.Random, begins: float = 0.0) -> tuple[int, float]:
    """Today's schedule, the wait beginning ``begins`` seconds after the run's creation."""
    schedule, now, requests = PollSchedule(10.0, rng.random), begins, 1
    while now < ends:
        now += schedule.next_pause()
        requests += 1
    return requests, now - ends


def fixed(ends: float, pause: float) -> tuple[int, float]:
    polls = math.floor(ends / pause) + 2 if ends > 0 else 1  # at 0, pause, ... and past it
    return polls, (polls - 1) * pause - ends


def first_wait(
    ends: float,
    siblings: list[float],
    head: float,
    rng: random.Random,
    begins: float = 0.0,
    just_started: bool = False,
) -> tuple[int, float]:
    """A new process: the run created at 0, ``siblings`` (lengths) created ``head``
    seconds before it; every poll lists the process, so ended siblings make a history.
    The wait begins ``begins`` seconds after the run's creation; ``just_started``: as
    Start Process Run And Wait, whose first poll comes after the first pause."""
    history, clock = History(clock=lambda: 0.0), Clock()
    clock.now = begins
    runs = [("r", 0.0, ends)] + [(f"s{i}", -head, length) for i, length in enumerate(siblings)]
    watched = Watched("r", process_hint="p", created_hint=0.0)
    schedule = PredictiveSchedule(10.0, [watched], history, rng=rng.random, clock=clock)
    requests = 0
    if just_started:
        clock.now += schedule.next_pause()
    while True:
        seen = [listed(i, created, length, clock.now) for i, created, length in runs]
        history.note(seen)
        history.read("p", seen)
        requests += 1
        if clock.now >= ends:
            return requests, clock.now - ends
        watched.run = seen[0]
        clock.now += schedule.next_pause()


def listed(run_id: str, created: float, length: float, now: float) -> dict[str, object]:
    over = now >= created + length
    return {"id": run_id, "process": {"id": "p"}, "created_at": iso(created),
            "state": "completed" if over else "in_progress",
            "ended_at": iso(created + length) if over else None}  # fmt: skip


def first_wait_rows(draws: int, rng: random.Random) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for length in (2.0, 10.0, 60.0):
        ends = [length * rng.uniform(0.9, 1.1) for _ in range(draws)]
        siblings = [[length * rng.uniform(0.9, 1.1) for _ in range(3)] for _ in range(draws)]
        own = random.Random(length)
        results = {
            "fixed 8 s polling (baseline)": [fixed(e, 8.0) for e in ends],
            "today's schedule": [today(e, rng) for e in ends],
            "library, no history": [first_wait(e, [], 0.0, rng) for e in ends],
            # Its own jitter, so that the other rows draw what they drew before it came.
            "library, no history, Start Process Run And Wait": [
                first_wait(e, [], 0.0, own, just_started=True) for e in ends
            ],
            "library, no history, 3 runs going since D/2": [
                first_wait(e, s, length / 2, rng) for e, s in zip(ends, siblings, strict=True)
            ],
            # A wait on a run created earlier: fixed polling does not care, the doubling did.
            "today's schedule, the wait begins at D/2": [today(e, rng, length / 2) for e in ends],
            "library, no history, the wait begins at D/2": [
                first_wait(e, [], 0.0, rng, length / 2) for e in ends
            ],
        }
        base = results["fixed 8 s polling (baseline)"]
        base_requests = statistics.fmean(r for r, _ in base)
        base_lag = statistics.fmean(lag for _, lag in base)
        for label, got in results.items():
            requests = statistics.fmean(r for r, _ in got)
            lag = statistics.fmean(lag for _, lag in got)
            rows.append((f"{length:g} s", label, f"{requests:.1f}", f"{lag:.2f}",
                         f"{requests - base_requests:+.1f}", f"{lag - base_lag:+.2f}"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 draws")
    args = parser.parse_args(argv)
    if args.quick:
        args.draws = 200
    rng = random.Random(1)
    rows = []
    for length in (2.0, 10.0, 60.0):
        draws = []
        for _ in range(args.draws):
            lengths = [length * rng.uniform(0.9, 1.1) for _ in range(5)]
            draws.append((lengths, length * rng.uniform(0.9, 1.1)))
        base = [today(ends, rng) for _, ends in draws]
        base_requests = statistics.fmean(r for r, _ in base)
        rows.append((f"{length:g} s", "today's schedule, poll_interval 10 s", f"{base_requests:.1f}",
                     f"{statistics.fmean(lag for _, lag in base):.2f}", "-"))  # fmt: skip
        for poll_interval in (10.0, 30.0):
            got = [predicted(h, ends, poll_interval, rng) for h, ends in draws]
            requests = statistics.fmean(r for r, _ in got)
            rows.append(
                (
                    f"{length:g} s",
                    f"history of 5 runs, poll_interval {poll_interval:g} s",
                    f"{requests:.1f}",
                    f"{statistics.fmean(lag for _, lag in got):.2f}",
                    f"{requests - base_requests:+.1f}",
                )
            )
    print(f"# Schedule simulation ({args.draws} random histories and runs per length)\n")
    print(
        table(
            ("runs last about", "schedule", "requests mean", "lag mean (s)", "requests vs today's"),
            rows,
        )
    )
    print(f"\n# The first wait on a process ({args.draws} random runs per length)\n")
    headers = ("runs last about", "schedule", "requests mean", "lag mean (s)",
               "requests vs fixed 8 s", "lag vs fixed 8 s")  # fmt: skip
    print(table(headers, first_wait_rows(args.draws, rng)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

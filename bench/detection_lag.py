"""Detection lag and requests per wait: the library's predictive schedule vs. today's
schedule and fixed polling.

For processes whose runs last about 2 s, 10 s and 60 s (each run D x a random factor in
0.9 .. 1.1), every strategy waits for its own run, all at the same time against one
emulator, and we measure

* lag: from the moment the run ended in the emulator to the moment the wait returned;
* requests: what the wait sent (the library client's ``request_count``; the loops count
  their own GETs).

Strategies, each on a process of its own:

* library, history of 5 runs: the real keyword `Wait Until Process Run Completes`
  (``poll_interval`` 10 s, the default), on a process with 5 ended runs seeded through
  the emulator's admin API, their lengths D x random(0.9 .. 1.1);
* library, no history: the same keyword on a process without ended runs;
* library, widely spread history: 5 ended runs of D x random(0.5 .. 1.5);
* library, expected_duration=D: no history, the user says how long runs take;
* today's schedule: a raw ``requests`` loop that GETs the run with the pauses of the
  library's ``PollSchedule(10)`` (0.1 s doubling up to 10 s), the schedule before this
  change; the budget of the library's requests is its mean + 2;
* fixed 1 s polling (the baseline of the ratios) and fixed 8 s polling (raw loops).

Everything runs in real time. The emulator's clock factor would shorten the 60 s runs,
but it is not faithful here: the library's pauses are real seconds (a 0.8 s dense pause
would be 8 emulated seconds at 10x), and a wait places a run it did not start by its
``created_at`` against this machine's clock, which an accelerated emulator's timestamps
run ahead of.

    .venv/bin/python bench/detection_lag.py [--quick] [--chart docs/polling-lag-vs-requests.png]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from _harness import (
    API_KEY,
    WORKSPACE_ID,
    Emulator,
    api_headers,
    emulator,
    machine,
    table,
    wait_until,
)
from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.polling import PollSchedule

ENDED = ("completed", "unresolved")
LAG_TARGET = 0.5  # seconds, mean, for runs with a history
EXTRA_REQUESTS = 2  # the library may cost today's schedule's mean + 2
STAGGER = 0.04  # real seconds between the starts of two trials
LAG_FLOOR = 0.01  # the chart's log scale shows smaller lags here
POLL_INTERVAL = 10.0  # the library's default
HISTORY = 5


@dataclass(frozen=True)
class Strategy:
    label: str
    kind: str  # "library", "schedule" (today's PollSchedule loop) or "fixed"
    interval: float  # the library's poll_interval, or the fixed pause
    history: tuple[float, float] | None = None  # seeded run lengths: D x random(low .. high)
    expected: bool = False  # the library is given expected_duration=D


PREDICTED = Strategy("library, history of 5 runs", "library", POLL_INTERVAL, (0.9, 1.1))
TODAY = Strategy("today's schedule (PollSchedule loop)", "schedule", POLL_INTERVAL)
STRATEGIES = (
    PREDICTED,
    Strategy("library, no history", "library", POLL_INTERVAL),
    Strategy("library, widely spread history", "library", POLL_INTERVAL, (0.5, 1.5)),
    Strategy("library, expected_duration=D", "library", POLL_INTERVAL, None, True),
    TODAY,
    Strategy("fixed 1 s polling (baseline)", "fixed", 1.0),
    Strategy("fixed 8 s polling", "fixed", 8.0),
)
BASELINE = STRATEGIES[5]


@dataclass(frozen=True)
class Case:
    length: float  # nominal run length D, seconds

    @property
    def label(self) -> str:
        return f"{self.length:g} s"


@dataclass(frozen=True)
class Trial:
    case: Case
    strategy: Strategy
    process_id: str
    run_seconds: float  # this run's length
    history: tuple[float, ...]  # lengths of the process's seeded ended runs
    delay: float  # real seconds after the common start


@dataclass(frozen=True)
class Outcome:
    trial: Trial
    run_id: str
    lag: float
    requests: int
    timestamp_error: float  # |ended_at - created_at - run length|


@dataclass(frozen=True)
class Row:
    case: Case
    strategy: Strategy
    lags: list[float]
    requests: list[int]

    @property
    def lag_mean(self) -> float:
        return statistics.fmean(self.lags)

    @property
    def requests_mean(self) -> float:
        return statistics.fmean(self.requests)


# --- one trial -------------------------------------------------------------------------


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def loop_polling(session: requests.Session, url: str, pauses: Any, limit: float) -> tuple[Any, int]:
    """GET the run, pausing ``next(pauses)`` seconds, until it has ended; the run and GETs."""
    deadline, count = time.monotonic() + limit, 0
    while time.monotonic() < deadline:
        run = session.get(url, timeout=10).json()
        count += 1
        if run["state"] in ENDED:
            return run, count
        time.sleep(next(pauses))
    raise TimeoutError(f"{url} did not end within {limit} s")


def pauses_of(strategy: Strategy) -> Any:
    if strategy.kind == "schedule":
        schedule = PollSchedule(strategy.interval)
        while True:
            yield schedule.next_pause()
    while True:
        yield strategy.interval


def wait_bound(trial: Trial) -> float:
    return trial.run_seconds + 3 * trial.strategy.interval + 30


def run_trial(trial: Trial, emu: Emulator, library: ProcessRunLibrary | None, t0: float) -> Outcome:
    wait_until(t0 + trial.delay)
    session = requests.Session()
    session.headers.update(api_headers())
    before = time.monotonic()
    if library is not None:
        run_id = str(library.start_process_run(trial.process_id))
    else:
        url = f"{emu.workspace_url}/processes/{trial.process_id}/process-runs"
        run_id = str(session.post(url, timeout=10).json()["id"])
    after = time.monotonic()
    run: Any  # an ended run: both times are there
    if library is not None:
        client = library._ctx.client()
        sent = client.request_count
        expected = trial.case.length if trial.strategy.expected else None
        run = library.wait_until_process_run_completes(run_id, expected_duration=expected)
        requests_sent = client.request_count - sent
    else:
        url = f"{emu.workspace_url}/process-runs/{run_id}"
        run, requests_sent = loop_polling(
            session, url, pauses_of(trial.strategy), wait_bound(trial)
        )
    returned = time.monotonic()
    session.close()
    ended_real = (before + after) / 2 + trial.run_seconds
    span = parse_time(run["ended_at"]) - parse_time(run["created_at"])
    return Outcome(
        trial,
        run_id,
        lag=returned - ended_real,
        requests=requests_sent,
        timestamp_error=abs(span - trial.run_seconds),
    )


def make_library(emu: Emulator, trial: Trial) -> ProcessRunLibrary:
    return ProcessRunLibrary(
        api_url=emu.api_url,
        workspace_id=WORKSPACE_ID,
        api_key=API_KEY,
        poll_interval=trial.strategy.interval,
        timeout=wait_bound(trial),
    )


# --- the whole measurement ---------------------------------------------------------------


def plan(cases: Sequence[Case], repetitions: int, seed: int = 7) -> list[Trial]:
    rng = random.Random(seed)
    trials = []
    for case in cases:
        for index in range(repetitions):
            length = round(case.length * rng.uniform(0.9, 1.1), 3)  # the same for every strategy
            for number, strategy in enumerate(STRATEGIES):
                low, high = strategy.history or (0.0, 0.0)
                history = tuple(
                    round(case.length * rng.uniform(low, high), 3)
                    for _ in range(HISTORY if strategy.history else 0)
                )
                process_id = f"run-{case.length:g}s-s{number}-{index}"
                trials.append(Trial(case, strategy, process_id, length, history, 0.0))
    rng.shuffle(trials)  # interleave strategies and lengths
    return [
        Trial(t.case, t.strategy, t.process_id, t.run_seconds, t.history, i * STAGGER)
        for i, t in enumerate(trials)
    ]


def define_processes(trials: Sequence[Trial], emu: Emulator) -> None:
    for trial in trials:
        emu.define_process(trial.process_id, 0.2 * trial.run_seconds, 0.8 * trial.run_seconds)
        if trial.history:
            emu.seed_runs(trial.process_id, len(trial.history), list(trial.history))


def execute(trials: Sequence[Trial], emu: Emulator) -> list[Outcome]:
    libraries = {t: make_library(emu, t) if t.strategy.kind == "library" else None for t in trials}
    t0 = time.monotonic() + 0.5
    with ThreadPoolExecutor(max_workers=len(trials)) as pool:
        futures = [pool.submit(run_trial, t, emu, libraries[t], t0) for t in trials]
        limit = max(wait_bound(t) + t.delay for t in trials) + 30
        return [f.result(timeout=limit) for f in futures]


def summarize(outcomes: Sequence[Outcome]) -> list[Row]:
    grouped: dict[tuple[Case, Strategy], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[(outcome.trial.case, outcome.trial.strategy)].append(outcome)
    rows = [
        Row(case, strategy, [o.lag for o in group], [o.requests for o in group])
        for (case, strategy), group in grouped.items()
    ]
    order = {s: i for i, s in enumerate(STRATEGIES)}
    rows.sort(key=lambda r: (r.case.length, order[r.strategy]))
    return rows


# --- output ------------------------------------------------------------------------------


def today(rows: Sequence[Row], case: Case) -> Row:
    return next(r for r in rows if r.case == case and r.strategy == TODAY)


def targets(row: Row, rows: Sequence[Row]) -> tuple[str, str]:
    """(lag target, requests target) of a row: "yes", "no" or "n/a"."""
    if row.strategy.kind != "library":
        return "n/a", "n/a"
    base = today(rows, row.case)
    if row.strategy.history == (0.9, 1.1) or row.strategy.expected:  # must learn
        lag_ok = row.lag_mean <= LAG_TARGET
        requests_ok = row.requests_mean <= base.requests_mean + EXTRA_REQUESTS
    else:  # must be no worse than today: not worse by more than the noise of the means
        lag_ok = row.lag_mean - base.lag_mean <= 2 * standard_error(row.lags, base.lags)
        requests_ok = row.requests_mean <= base.requests_mean
    return ("yes" if lag_ok else "no"), ("yes" if requests_ok else "no")


def standard_error(a: Sequence[float], b: Sequence[float]) -> float:
    """Of the difference of the means of two samples (the pauses' jitter makes lags vary)."""
    return math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))


def target_text(strategy: Strategy) -> tuple[str, str]:
    if strategy.kind != "library":
        return "", ""
    if strategy.history == (0.9, 1.1) or strategy.expected:
        return f"<= {LAG_TARGET:g} s", f"<= today's + {EXTRA_REQUESTS}"
    return "<= today's + 2 SE", "<= today's"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "-"


def report(rows: Sequence[Row]) -> str:
    baselines = {r.case: r for r in rows if r.strategy == BASELINE}
    body = []
    for row in rows:
        base, now = baselines[row.case], today(rows, row.case)
        lag_ok, requests_ok = targets(row, rows)
        lag_target, requests_target = target_text(row.strategy)
        body.append(
            (
                row.case.label,
                row.strategy.label,
                f"{row.lag_mean:.2f}",
                f"{max(row.lags):.2f}",
                f"{row.requests_mean:.1f}",
                max(row.requests),
                f"{row.lag_mean - now.lag_mean:+.2f}",
                f"{row.requests_mean - now.requests_mean:+.1f}",
                ratio(row.lag_mean, base.lag_mean),
                ratio(row.requests_mean, base.requests_mean),
                f"{lag_ok} ({lag_target})" if lag_target else "n/a",
                f"{requests_ok} ({requests_target})" if requests_target else "n/a",
            )
        )
    headers = (
        "runs last about",
        "strategy",
        "lag mean (s)",
        "lag max (s)",
        "requests mean",
        "requests max",
        "lag vs today's",
        "requests vs today's",
        "lag vs fixed 1 s",
        "requests vs fixed 1 s",
        "lag target met",
        "requests target met",
    )
    return table(headers, body)


def verdict(rows: Sequence[Row]) -> str:
    lines = []
    for strategy in (s for s in STRATEGIES if s.kind == "library"):
        lag_target, requests_target = target_text(strategy)
        parts = []
        for row in (r for r in rows if r.strategy == strategy):
            lag_ok, requests_ok = targets(row, rows)
            parts.append(
                f"{row.case.label}: lag {row.lag_mean:.2f} s ({lag_ok}), "
                f"requests {row.requests_mean:.1f} vs today's "
                f"{today(rows, row.case).requests_mean:.1f} ({requests_ok})"
            )
        lines.append(
            f"- {strategy.label} (lag {lag_target}, requests {requests_target}): "
            + "; ".join(parts)
        )
    return "\n".join(lines)


NOTES = """\
Lag: from the run's end in the emulator (the start request's midpoint + the run's length;
ended_at - created_at confirms the length) to the return of the wait. Requests: what the
wait sent, the start not counted. Each row's 5 waits have the same 5 run lengths as the
other rows of its length, so the rows compare like with like. Today's schedule is the
library's PollSchedule(10) in a raw loop: what the keyword did before it learned.
"No worse than today" (no or widely spread history): requests no more than today's, and a
mean lag not above today's by more than two standard errors of the difference (both
schedules jitter their pauses by 10 %, so 5 waits' means differ by chance)."""


def draw_chart(rows: Sequence[Row], path: str) -> None:
    """One panel per run length: each strategy's waits (small) and their mean (large)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(r.case for r in rows))
    columns = 3 if len(cases) > 4 else 2
    lines = -(-len(cases) // columns)
    figure, grid = plt.subplots(lines, columns, figsize=(5 * columns, 4 * lines), squeeze=False)
    panels = list(grid.flat)
    for axes, case in zip(panels, cases, strict=False):
        draw_panel(axes, [r for r in rows if r.case == case], case)
    for axes in panels[len(cases) :]:
        axes.axis("off")
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize="small")
    figure.suptitle(
        "Detection lag vs. requests per wait (dots: each wait; hollow: mean; dashed: 0.5 s target)"
    )
    figure.tight_layout(rect=(0, 0.07, 1, 0.97))
    figure.savefig(path, dpi=100)
    plt.close(figure)


def draw_panel(axes: Any, rows: Sequence[Row], case: Case) -> None:
    from matplotlib.ticker import FuncFormatter

    unit = "s"
    for index, (marker, strategy) in enumerate(zip("osD^vPX", STRATEGIES, strict=True)):
        row = next(r for r in rows if r.strategy == strategy)
        (line,) = axes.plot(
            [row.requests_mean],
            [max(row.lag_mean, LAG_FLOOR)],
            marker=marker,
            markersize=16 - 1.5 * index,  # hollow and shrinking: equal points stay visible
            markerfacecolor="none",
            markeredgewidth=2,
            linestyle="",
            label=strategy.label,
        )
        axes.plot(
            row.requests,
            [max(lag, LAG_FLOOR) for lag in row.lags],
            marker=marker,
            markersize=4,
            linestyle="",
            color=line.get_color(),
            alpha=0.5,
        )
    axes.axhline(LAG_TARGET, color="grey", linewidth=0.8, linestyle="--")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(1.5, 100)
    axes.set_ylim(LAG_FLOOR * 0.8, 15)
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axes.xaxis.set_major_formatter(plain)
    axes.yaxis.set_major_formatter(plain)
    axes.set_title(f"runs of about {case.label}")
    axes.set_xlabel("requests per wait")
    axes.set_ylabel(f"lag ({unit})")
    axes.grid(True, which="major", linewidth=0.3)


# --- main --------------------------------------------------------------------------------


def cases_for(quick: bool) -> list[Case]:
    return [Case(2), Case(10)] if quick else [Case(2), Case(10), Case(60)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions, no 60 s runs")
    parser.add_argument("--chart", help="write a PNG chart of lag against requests here")
    args = parser.parse_args(argv)
    repetitions = 2 if args.quick else 5
    trials = plan(cases_for(args.quick), repetitions)
    print(f"# Detection lag\n\nMachine: {machine()}")
    print(f"Trials: {len(trials)} waits at once ({repetitions} per strategy and length).\n")
    started = time.monotonic()
    with emulator(1.0) as emu:
        define_processes(trials, emu)
        outcomes = execute(trials, emu)
    rows = summarize(outcomes)
    print(report(rows))
    print(f"\n{NOTES}\n\nTargets:\n{verdict(rows)}")
    worst = max(o.timestamp_error for o in outcomes)
    print(
        f"\nended_at - created_at matched the configured run length within {worst * 1000:.1f} ms; "
        f"measured in {time.monotonic() - started:.0f} s."
    )
    if args.chart:
        draw_chart(rows, args.chart)
        print(f"Chart written to {args.chart}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

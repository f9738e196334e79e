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
* library, no history, 3 runs going since D/2: a new process with 3 other runs (D x
  random(0.9 .. 1.1) each) started D/2 before the one waited for: the wait sees them
  going, then end, and learns from both;
* library, no history, started with 3 others: the same 3 runs started just before it,
  as a parent robot starts several children of a new process;
* today's schedule: a raw ``requests`` loop that GETs the run with the pauses of the
  library's ``PollSchedule(10)`` (0.1 s doubling up to 10 s), the schedule before this
  change; the budget of the library's requests is its mean + 2;
* fixed 1 s polling (the baseline of the ratios) and fixed 8 s polling (raw loops).

Every draw of lengths comes from a seed; with ``--seeds 1,2,3`` the draws of all seeds
run side by side in one sitting, and the table gives each row's mean over every wait
and the range of its per-seed means, so a figure is not one draw's luck.

Everything runs in real time. The emulator's clock factor would shorten the 60 s runs,
but it is not faithful here: the library's pauses are real seconds (a 0.8 s dense pause
would be 8 emulated seconds at 10x), and a wait places a run it did not start by its
``created_at`` against this machine's clock, which an accelerated emulator's timestamps
run ahead of.

    .venv/bin/python bench/detection_lag.py [--quick] [--seeds 1,2,3] [--repetitions 5]
        [--chart docs/polling-lag-vs-requests.png]
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
from dataclasses import dataclass, replace
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
    siblings: int = 0  # other runs of the process, each D x random(0.9 .. 1.1) long ...
    head: float = 0.0  # ... started this fraction of D before the run waited for

    @property
    def learns(self) -> bool:
        """Whether the library has something to learn from: history or expected_duration."""
        return self.history == (0.9, 1.1) or self.expected


PREDICTED = Strategy("library, history of 5 runs", "library", POLL_INTERVAL, (0.9, 1.1))
TODAY = Strategy("today's schedule (PollSchedule loop)", "schedule", POLL_INTERVAL)
BASELINE = Strategy("fixed 1 s polling (baseline)", "fixed", 1.0)
FIXED_8 = Strategy("fixed 8 s polling", "fixed", 8.0)
NO_HISTORY = Strategy("library, no history", "library", POLL_INTERVAL)
STRATEGIES = (
    PREDICTED,
    NO_HISTORY,
    Strategy(
        "library, no history, 3 runs going since D/2",
        "library",
        POLL_INTERVAL,
        siblings=3,
        head=0.5,
    ),
    Strategy(
        "library, no history, started with 3 others", "library", POLL_INTERVAL, siblings=3, head=0.0
    ),
    Strategy("library, widely spread history", "library", POLL_INTERVAL, (0.5, 1.5)),
    Strategy("library, expected_duration=D", "library", POLL_INTERVAL, None, True),
    TODAY,
    BASELINE,
    FIXED_8,
)


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
    seed: int
    siblings: tuple[float, ...] = ()  # lengths of the process's other runs going

    @property
    def head(self) -> float:
        """Real seconds by which the other runs are started before this one."""
        return self.strategy.head * self.case.length if self.siblings else 0.0


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
    by_seed: dict[int, tuple[float, float]]  # seed -> (lag mean, requests mean)

    @property
    def lag_mean(self) -> float:
        return statistics.fmean(self.lags)

    @property
    def requests_mean(self) -> float:
        return statistics.fmean(self.requests)

    def spread(self, index: int) -> str:
        """The range of the per-seed means of the lag (0) or the requests (1)."""
        values = [means[index] for means in self.by_seed.values()]
        digits = 2 if index == 0 else 1
        return f"{min(values):.{digits}f}..{max(values):.{digits}f}"


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


def define(session: requests.Session, emu: Emulator, process_id: str, length: float) -> None:
    """(Re)define the process so that its next run lasts ``length``: runs already started
    keep the definition they were started with. New for the first 20 %, then running."""
    body = {"id": process_id, "name": process_id, "new_seconds": 0.2 * length,
            "run_seconds": 0.8 * length, "outcome": "completed"}  # fmt: skip
    session.put(f"{emu.origin}/_emulator/processes/{process_id}", json=body).raise_for_status()


def start_siblings(trial: Trial, emu: Emulator, session: requests.Session) -> None:
    url = f"{emu.workspace_url}/processes/{trial.process_id}/process-runs"
    for length in trial.siblings:
        define(session, emu, trial.process_id, length)
        session.post(url, timeout=10).raise_for_status()
    define(session, emu, trial.process_id, trial.run_seconds)


def run_trial(trial: Trial, emu: Emulator, library: ProcessRunLibrary | None, t0: float) -> Outcome:
    session = requests.Session()
    session.headers.update(api_headers())
    if trial.siblings:
        wait_until(t0 + trial.delay - trial.head)
        start_siblings(trial, emu, session)
    wait_until(t0 + trial.delay)
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


def plan(cases: Sequence[Case], repetitions: int, seeds: Sequence[int] = (7,)) -> list[Trial]:
    trials = []
    for seed in seeds:
        rng = random.Random(seed)
        for case in cases:
            for index in range(repetitions):
                length = round(case.length * rng.uniform(0.9, 1.1), 3)  # every strategy's
                for number, strategy in enumerate(STRATEGIES):
                    low, high = strategy.history or (0.0, 0.0)
                    history = tuple(
                        round(case.length * rng.uniform(low, high), 3)
                        for _ in range(HISTORY if strategy.history else 0)
                    )
                    siblings = tuple(
                        round(case.length * rng.uniform(0.9, 1.1), 3)
                        for _ in range(strategy.siblings)
                    )
                    process_id = f"run-{case.length:g}s-s{number}-{index}-seed{seed}"
                    trials.append(
                        Trial(case, strategy, process_id, length, history, 0.0, seed, siblings)
                    )
    random.Random(0).shuffle(trials)  # interleave strategies, lengths and seeds
    return [replace(t, delay=i * STAGGER) for i, t in enumerate(trials)]


def define_processes(trials: Sequence[Trial], emu: Emulator) -> None:
    for trial in trials:
        emu.define_process(trial.process_id, 0.2 * trial.run_seconds, 0.8 * trial.run_seconds)
        if trial.history:
            emu.seed_runs(trial.process_id, len(trial.history), list(trial.history))


def execute(trials: Sequence[Trial], emu: Emulator) -> list[Outcome]:
    libraries = {t: make_library(emu, t) if t.strategy.kind == "library" else None for t in trials}
    t0 = time.monotonic() + 0.5 + max(t.head for t in trials)
    with ThreadPoolExecutor(max_workers=len(trials)) as pool:
        futures = [pool.submit(run_trial, t, emu, libraries[t], t0) for t in trials]
        limit = max(wait_bound(t) + t.delay + t.head for t in trials) + 30
        return [f.result(timeout=limit) for f in futures]


def summarize(outcomes: Sequence[Outcome]) -> list[Row]:
    grouped: dict[tuple[Case, Strategy], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[(outcome.trial.case, outcome.trial.strategy)].append(outcome)
    rows = [
        Row(case, strategy, [o.lag for o in group], [o.requests for o in group], by_seed(group))
        for (case, strategy), group in grouped.items()
    ]
    order = {s: i for i, s in enumerate(STRATEGIES)}
    rows.sort(key=lambda r: (r.case.length, order[r.strategy]))
    return rows


def by_seed(outcomes: Sequence[Outcome]) -> dict[int, tuple[float, float]]:
    seeds: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        seeds[outcome.trial.seed].append(outcome)
    return {
        seed: (statistics.fmean(o.lag for o in group), statistics.fmean(o.requests for o in group))
        for seed, group in sorted(seeds.items())
    }


# --- output ------------------------------------------------------------------------------


def today(rows: Sequence[Row], case: Case) -> Row:
    return row_of(rows, case, TODAY)


def row_of(rows: Sequence[Row], case: Case, strategy: Strategy) -> Row:
    return next(r for r in rows if r.case == case and r.strategy == strategy)


def against_fixed_8(strategy: Strategy, case: Case) -> bool:
    """Issue 19: a first wait on runs of 60 s must match fixed 8 s polling on both counts."""
    return not strategy.learns and strategy.history is None and case.length >= 60


def targets(row: Row, rows: Sequence[Row]) -> tuple[str, str]:
    """(lag target, requests target) of a row: "yes", "no" or "n/a"."""
    if row.strategy.kind != "library":
        return "n/a", "n/a"
    base = today(rows, row.case)
    if row.strategy.learns:
        lag_ok = row.lag_mean <= LAG_TARGET
        requests_ok = row.requests_mean <= base.requests_mean + EXTRA_REQUESTS
    elif against_fixed_8(row.strategy, row.case):
        fixed = row_of(rows, row.case, FIXED_8)
        lag_ok = row.lag_mean <= fixed.lag_mean
        requests_ok = row.requests_mean <= fixed.requests_mean
    else:  # must be no worse than today: not worse by more than the noise of the means
        lag_ok = row.lag_mean - base.lag_mean <= 2 * standard_error(row.lags, base.lags)
        requests_ok = row.requests_mean <= base.requests_mean
    return ("yes" if lag_ok else "no"), ("yes" if requests_ok else "no")


def standard_error(a: Sequence[float], b: Sequence[float]) -> float:
    """Of the difference of the means of two samples (the pauses' jitter makes lags vary)."""
    return math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))


def target_text(strategy: Strategy, case: Case) -> tuple[str, str]:
    if strategy.kind != "library":
        return "", ""
    if strategy.learns:
        return f"<= {LAG_TARGET:g} s", f"<= today's + {EXTRA_REQUESTS}"
    if against_fixed_8(strategy, case):
        return "<= fixed 8 s", "<= fixed 8 s"
    return "<= today's + 2 SE", "<= today's"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "-"


def report(rows: Sequence[Row]) -> str:
    baselines = {r.case: r for r in rows if r.strategy == BASELINE}
    body = []
    for row in rows:
        base, now = baselines[row.case], today(rows, row.case)
        fixed = row_of(rows, row.case, FIXED_8)
        lag_ok, requests_ok = targets(row, rows)
        lag_target, requests_target = target_text(row.strategy, row.case)
        body.append(
            (
                row.case.label,
                row.strategy.label,
                f"{row.lag_mean:.2f}",
                row.spread(0),
                f"{max(row.lags):.2f}",
                f"{row.requests_mean:.1f}",
                row.spread(1),
                max(row.requests),
                f"{row.lag_mean - now.lag_mean:+.2f}",
                f"{row.requests_mean - now.requests_mean:+.1f}",
                f"{row.lag_mean - fixed.lag_mean:+.2f}",
                f"{row.requests_mean - fixed.requests_mean:+.1f}",
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
        "lag: seeds' means",
        "lag max (s)",
        "requests mean",
        "requests: seeds' means",
        "requests max",
        "lag vs today's",
        "requests vs today's",
        "lag vs fixed 8 s",
        "requests vs fixed 8 s",
        "lag vs fixed 1 s",
        "requests vs fixed 1 s",
        "lag target met",
        "requests target met",
    )
    return table(headers, body)


def verdict(rows: Sequence[Row]) -> str:
    lines = []
    for strategy in (s for s in STRATEGIES if s.kind == "library"):
        parts = []
        for row in (r for r in rows if r.strategy == strategy):
            lag_ok, requests_ok = targets(row, rows)
            lag_target, requests_target = target_text(strategy, row.case)
            parts.append(
                f"{row.case.label}: lag {row.lag_mean:.2f} s ({lag_target}: {lag_ok}), "
                f"requests {row.requests_mean:.1f} ({requests_target}: {requests_ok})"
            )
        lines.append(f"- {strategy.label}: " + "; ".join(parts))
    return "\n".join(lines)


NOTES = """\
Lag: from the run's end in the emulator (the start request's midpoint + the run's length;
ended_at - created_at confirms the length) to the return of the wait. Requests: what the
wait sent, the start not counted. For each seed, a row's waits have the same run lengths
as the other rows of its length, so the rows compare like with like; "seeds' means" is
the range of the per-seed means. Today's schedule is the
library's PollSchedule(10) in a raw loop: what the keyword did before it learned.
"No worse than today" (no or widely spread history): requests no more than today's, and a
mean lag not above today's by more than two standard errors of the difference (both
schedules jitter their pauses by 10 %, so a few waits' means differ by chance). Runs of
60 s of a process without a history (issue 19): lag and requests no more than fixed 8 s
polling's."""


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
    for index, (marker, strategy) in enumerate(zip("osD^vPX*h", STRATEGIES, strict=True)):
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
    parser.add_argument("--seeds", default="1,2,3", help="seeds of the draws, comma-separated")
    parser.add_argument("--repetitions", type=int, default=5, help="waits per seed and row")
    parser.add_argument("--chart", help="write a PNG chart of lag against requests here")
    args = parser.parse_args(argv)
    repetitions = 2 if args.quick else args.repetitions
    seeds = [int(seed) for seed in args.seeds.split(",")]
    trials = plan(cases_for(args.quick), repetitions, seeds)
    print(f"# Detection lag\n\nMachine: {machine()}")
    print(
        f"Trials: {len(trials)} waits at once ({repetitions} per strategy, length and seed; "
        f"seeds {', '.join(map(str, seeds))}).\n"
    )
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

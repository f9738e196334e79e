"""Detection lag and requests per wait: the library's poll schedule vs. fixed polling.

For runs that end after about 0.5 s, 2 s, 10 s and 60 s, every strategy waits for its own
run of the same length, all at the same time against one emulator, and we measure

* lag: from the moment the run ended in the emulator to the moment the wait returned;
* requests: the GETs of that run in the emulator's request log.

Strategies: the library's `Wait Until Process Run Completes` (the real keyword code, with
poll_interval 10 s, 1 s and 0.5 s) and naive loops over raw ``requests`` that GET the run
every 1 s or every 8 s. The fixed 1 s loop is the baseline of the ratios.

Run lengths: a row "10 s" holds runs of 10 s x 0.92, 0.96, 1.00, 1.04, 1.08 (``--quick``:
x 0.95, 1.05), because the lag of fixed-interval polling at one exact length is an artefact
of that length (a 2 s run polled every 1 s is seen at once or a second late).

The 60 s run is also run with the emulator's clock at 10x (6 real seconds): its poll
intervals are divided by 10 too and its figures are in emulated seconds. That scaling is
not exact: the library's first pauses (0.1 s, 0.2 s, ...) are real time, so at 10x they
are 1 s, 2 s, ... emulated. The full run also measures 60 s in real time; ``--quick`` only
the scaled one.

    .venv/bin/python bench/detection_lag.py [--quick] [--chart docs/polling-lag-vs-requests.png]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
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

ENDED = ("completed", "unresolved")
LAG_TARGET = 0.5  # seconds, for runs of 10 s or less
LAG_TARGET_UP_TO = 10.0
EXTRA_REQUESTS = 8  # a wait of D seconds may cost ceil(D / poll_interval) + 8 requests
STAGGER = 0.04  # real seconds between the starts of two trials
SCALED_FACTOR = 10.0
LAG_FLOOR = 0.01  # the chart's log scale shows smaller lags here


@dataclass(frozen=True)
class Strategy:
    label: str
    library: bool
    interval: float  # emulated seconds: the library's poll_interval, or the fixed pause


STRATEGIES = (
    Strategy("library, poll_interval 10 s", True, 10.0),
    Strategy("library, poll_interval 1 s", True, 1.0),
    Strategy("library, poll_interval 0.5 s", True, 0.5),
    Strategy("fixed 1 s polling (baseline)", False, 1.0),
    Strategy("fixed 8 s polling", False, 8.0),
)
BASELINE = STRATEGIES[3]


@dataclass(frozen=True)
class Case:
    length: float  # nominal run length, emulated seconds
    factor: float  # the emulator's clock factor

    @property
    def label(self) -> str:
        clock = "" if self.factor == 1 else f" (clock x{self.factor:g})"
        return f"{self.length:g} s{clock}"


@dataclass(frozen=True)
class Trial:
    case: Case
    strategy: Strategy
    process_id: str
    run_seconds: float  # this run's length, emulated seconds
    delay: float  # real seconds after the common start


@dataclass(frozen=True)
class Outcome:
    trial: Trial
    run_id: str
    lag: float  # emulated seconds
    waited: float  # emulated seconds from the start of the wait to its return
    timestamp_error: float  # |ended_at - created_at - run length|, emulated seconds


@dataclass(frozen=True)
class Row:
    case: Case
    strategy: Strategy
    lags: list[float]
    requests: list[int]
    budgets: list[int]

    @property
    def lag_mean(self) -> float:
        return statistics.fmean(self.lags)

    @property
    def requests_mean(self) -> float:
        return statistics.fmean(self.requests)


# --- one trial -------------------------------------------------------------------------


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def fixed_polling(session: requests.Session, url: str, pause: float, max_polls: int) -> Any:
    """GET the run every ``pause`` seconds until it has ended (at most ``max_polls`` GETs)."""
    for _ in range(max_polls):
        run = session.get(url, timeout=10).json()
        if run["state"] in ENDED:
            return run
        time.sleep(pause)
    raise TimeoutError(f"{url} did not end within {max_polls} polls")


def wait_bound(trial: Trial) -> float:
    """A generous limit for one wait, emulated seconds."""
    return trial.run_seconds + 3 * trial.strategy.interval + 30


def run_trial(trial: Trial, emu: Emulator, library: ProcessRunLibrary | None, t0: float) -> Outcome:
    factor = trial.case.factor
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
        run = library.wait_until_process_run_completes(run_id)
    else:
        pause = trial.strategy.interval / factor
        max_polls = math.ceil(wait_bound(trial) / trial.strategy.interval) + 2
        run = fixed_polling(session, f"{emu.workspace_url}/process-runs/{run_id}", pause, max_polls)
    returned = time.monotonic()
    session.close()
    ended_real = (before + after) / 2 + trial.run_seconds / factor
    span = parse_time(run["ended_at"]) - parse_time(run["created_at"])
    return Outcome(
        trial,
        run_id,
        lag=(returned - ended_real) * factor,
        waited=(returned - after) * factor,
        timestamp_error=abs(span - trial.run_seconds),
    )


def make_library(emu: Emulator, trial: Trial) -> ProcessRunLibrary:
    factor = trial.case.factor
    return ProcessRunLibrary(
        api_url=emu.api_url,
        workspace_id=WORKSPACE_ID,
        api_key=API_KEY,
        poll_interval=trial.strategy.interval / factor,
        timeout=wait_bound(trial) / factor,
    )


# --- the whole measurement ---------------------------------------------------------------


def spreads(repetitions: int) -> list[float]:
    """Run lengths as fractions of the nominal one, evenly over 0.9 .. 1.1."""
    return [0.9 + 0.2 * (r + 0.5) / repetitions for r in range(repetitions)]


def plan(cases: Sequence[Case], repetitions: int) -> list[Trial]:
    trials = []
    for case in cases:
        for index, spread in enumerate(spreads(repetitions)):
            process_id = f"run-{case.length:g}s-x{case.factor:g}-{index}"
            for strategy in STRATEGIES:
                trials.append(Trial(case, strategy, process_id, case.length * spread, 0.0))
    random.Random(7).shuffle(trials)  # interleave strategies and lengths
    return [
        Trial(t.case, t.strategy, t.process_id, t.run_seconds, i * STAGGER)
        for i, t in enumerate(trials)
    ]


def define_processes(trials: Sequence[Trial], emulators: dict[float, Emulator]) -> None:
    for trial in {(t.process_id, t.case.factor, t.run_seconds) for t in trials}:
        process_id, factor, seconds = trial
        emulators[factor].define_process(process_id, 0.2 * seconds, 0.8 * seconds)


def request_counts(emulators: dict[float, Emulator]) -> Counter[str]:
    """GETs of each run, from the emulators' request logs."""
    counts: Counter[str] = Counter()
    for emu in emulators.values():
        for entry in emu.request_log(method="GET", path="/process-runs/"):
            counts[entry["path"].rsplit("/", 1)[1]] += 1
    return counts


def execute(trials: Sequence[Trial], emulators: dict[float, Emulator]) -> list[Outcome]:
    libraries = {
        t: make_library(emulators[t.case.factor], t) if t.strategy.library else None for t in trials
    }
    t0 = time.monotonic() + 0.5
    with ThreadPoolExecutor(max_workers=len(trials)) as pool:
        futures = [
            pool.submit(run_trial, t, emulators[t.case.factor], libraries[t], t0) for t in trials
        ]
        limit = max(wait_bound(t) / t.case.factor + t.delay for t in trials) + 30
        return [f.result(timeout=limit) for f in futures]


def summarize(outcomes: Sequence[Outcome], counts: Counter[str]) -> list[Row]:
    grouped: dict[tuple[Case, Strategy], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[(outcome.trial.case, outcome.trial.strategy)].append(outcome)
    rows = []
    for (case, strategy), group in grouped.items():
        budgets = [math.ceil(o.waited / strategy.interval) + EXTRA_REQUESTS for o in group]
        rows.append(
            Row(case, strategy, [o.lag for o in group], [counts[o.run_id] for o in group], budgets)
        )
    order = {s: i for i, s in enumerate(STRATEGIES)}
    rows.sort(key=lambda r: (r.case.length, r.case.factor, order[r.strategy]))
    return rows


# --- output ------------------------------------------------------------------------------


def lag_met(row: Row) -> str:
    if row.case.length > LAG_TARGET_UP_TO:
        return "n/a"
    return "yes" if max(row.lags) <= LAG_TARGET else "no"


def requests_met(row: Row) -> str:
    if not row.strategy.library:
        return "n/a"
    ok = all(r <= b for r, b in zip(row.requests, row.budgets, strict=True))
    return "yes" if ok else "no"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "-"


def report(rows: Sequence[Row]) -> str:
    baselines = {r.case: r for r in rows if r.strategy == BASELINE}
    body = []
    for row in rows:
        base = baselines[row.case]
        body.append(
            (
                row.case.label,
                row.strategy.label,
                f"{row.lag_mean:.2f}",
                f"{max(row.lags):.2f}",
                f"{row.requests_mean:.1f}",
                max(row.requests),
                max(row.budgets) if row.strategy.library else "-",
                ratio(row.lag_mean, base.lag_mean),
                ratio(row.requests_mean, base.requests_mean),
                lag_met(row),
                requests_met(row),
            )
        )
    headers = (
        "run ends after",
        "strategy",
        "lag mean (s)",
        "lag max (s)",
        "requests mean",
        "requests max",
        "budget ceil(D/P)+8",
        "lag vs baseline",
        "requests vs baseline",
        "lag <= 0.5 s",
        "requests <= budget",
    )
    return table(headers, body)


def verdict(rows: Sequence[Row]) -> str:
    lines = []
    for strategy in (s for s in STRATEGIES if s.library):
        mine = [r for r in rows if r.strategy == strategy]
        lag_ok = [r.case.label for r in mine if lag_met(r) == "yes"]
        lag_bad = [r.case.label for r in mine if lag_met(r) == "no"]
        req_bad = [r.case.label for r in mine if requests_met(r) == "no"]
        lines.append(
            f"- {strategy.label}: lag <= {LAG_TARGET:g} s for runs <= {LAG_TARGET_UP_TO:g} s "
            f"{'met' if not lag_bad else 'NOT met'} (met: {', '.join(lag_ok) or 'none'}; "
            f"not met: {', '.join(lag_bad) or 'none'}); requests <= ceil(D/P)+{EXTRA_REQUESTS} "
            f"{'met for every wait' if not req_bad else 'NOT met for ' + ', '.join(req_bad)}."
        )
    return "\n".join(lines)


NOTES = """\
Lag: from the run's end in the emulator (the start request's midpoint + the run's length
divided by the clock factor; ended_at - created_at confirms the length) to the return of the
wait. Requests: the GETs of the run in the emulator's request log. D: the time the wait took;
P: the strategy's interval. Rows with clock x10 are in emulated seconds; their poll
intervals were divided by 10, but the library's first pauses (0.1 s, 0.2 s, ...) are real
time, i.e. 1 s, 2 s, ... emulated, so those rows are close to, not equal to, a real wait."""


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

    unit = "emulated s" if case.factor != 1 else "s"
    for index, (marker, strategy) in enumerate(zip("osD^v", STRATEGIES, strict=True)):
        row = next(r for r in rows if r.strategy == strategy)
        (line,) = axes.plot(
            [row.requests_mean],
            [max(row.lag_mean, LAG_FLOOR)],
            marker=marker,
            markersize=15 - 2 * index,  # hollow and shrinking: equal points stay visible
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
    if case.length <= LAG_TARGET_UP_TO:
        axes.axhline(LAG_TARGET, color="grey", linewidth=0.8, linestyle="--")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(1.5, 250)
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
    lengths = [Case(0.5, 1), Case(2, 1), Case(10, 1), Case(60, SCALED_FACTOR)]
    return lengths if quick else [*lengths[:3], Case(60, 1), lengths[3]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions, no real 60 s run")
    parser.add_argument("--chart", help="write a PNG chart of lag against requests here")
    args = parser.parse_args(argv)
    repetitions = 2 if args.quick else 5
    cases = cases_for(args.quick)
    trials = plan(cases, repetitions)
    print(f"# Detection lag\n\nMachine: {machine()}")
    print(f"Trials: {len(trials)} waits at once ({repetitions} per strategy and length).\n")
    started = time.monotonic()
    with emulator(1.0) as real, emulator(SCALED_FACTOR) as scaled:
        emulators = {1.0: real, SCALED_FACTOR: scaled}
        define_processes(trials, emulators)
        outcomes = execute(trials, emulators)
        counts = request_counts(emulators)
    rows = summarize(outcomes, counts)
    print(report(rows))
    print(f"\n{NOTES}\n\nTargets:\n{verdict(rows)}")
    worst = max(o.timestamp_error for o in outcomes)
    print(
        f"\nended_at - created_at matched the configured run length within {worst * 1000:.1f} ms "
        f"(emulated); measured in {time.monotonic() - started:.0f} s."
    )
    if args.chart:
        draw_chart(rows, args.chart)
        print(f"Chart written to {args.chart}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

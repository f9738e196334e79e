"""What the library's listener adds to a long Robot Framework run.

The listener sees every keyword and every message of the run (it masks known secrets
before other listeners, output.xml and log.html get them). This runs one suite of
``--keywords`` keyword calls (a FOR loop of ``Log`` and ``Should Be Equal``, with four
secrets known to the library) in fresh ``robot`` processes, interleaved:

- with ``ProcessRunLibrary`` imported as it is (its listener active), and
- with ``ProcessRunLibrary`` imported with its listener removed (the baseline),

at log level INFO and TRACE (TRACE logs every keyword's arguments: a message per
keyword more), writing output.xml as a run does (no log or report). CPU time of the
whole ``robot`` process (user + system: on a shared machine it moves far less than wall
time), best and median of ``--repeat`` runs, and their ratios to the baseline (on a
busy machine the best is the steadier figure); wall time for reference. A run of 30 keywords gives the fixed cost (start-up, imports) that both
variants pay. On a busy machine the difference drowns in the noise, so a third variant
times the listener's own methods inside the run (``time.thread_time``, CPU time, around
each call) and gives their share of the run's CPU time; Robot Framework's dispatch of each
call is not in that figure. Nothing is sent to Control Room.

    .venv/bin/python bench/listener_overhead.py [--quick] [--keywords N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import PYTHON, ROOT, machine, median, table

SUITE = """\
*** Settings ***
Library    {library}    workspace_id=bench-ws    api_key=bench-key-{marker}-1
{extra}

*** Test Cases ***
A Long Run
    FOR    ${{i}}    IN RANGE    {loops}
        Log    Line ${{i}} of a long run with some text that is not a secret.
        Should Be Equal    value ${{i}}    value ${{i}}
    END
"""

WITHOUT = '''\
"""ProcessRunLibrary with its listener removed: the baseline of listener_overhead.py."""
from ProcessRunLibrary import ProcessRunLibrary


class NoListenerLibrary(ProcessRunLibrary):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.ROBOT_LIBRARY_LISTENER
'''

TIMED = '''\
"""ProcessRunLibrary whose listener methods add up the time spent in them."""
import atexit
import os
import time

from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.Emulator import Emulator

SPENT = [0.0, 0]


def timed(method):
    def call(*args):
        started = time.thread_time()
        try:
            return method(*args)
        finally:
            SPENT[0] += time.thread_time() - started
            SPENT[1] += 1
    return call


def time_secrets_listeners(library):
    """Time the methods of the library's secrets listeners (not its other listeners)."""
    for listener in library.ROBOT_LIBRARY_LISTENER:
        if type(listener).__module__ != "ProcessRunLibrary.listener":
            continue
        for name in ("start_keyword", "end_keyword", "log_message", "message",
                     "end_test", "end_suite"):
            if hasattr(listener, name):
                setattr(listener, name, timed(getattr(listener, name)))


class TimedListenerLibrary(ProcessRunLibrary):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        time_secrets_listeners(self)


class TimedEmulator(Emulator):
    """The Emulator library, which attaches a second instance of the same listener."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        time_secrets_listeners(self)


@atexit.register
def report():
    with open(os.environ["LISTENER_TIME_FILE"], "w") as file:
        file.write(f"{SPENT[0]} {SPENT[1]}")
'''

VARIANTS = {
    "without the library's listener (baseline)": "NoListenerLibrary.py",
    "with the library's listener": "ProcessRunLibrary",
}
TIMED_VARIANT = "with the library's listener, its methods timed"
# ProcessRunLibrary and its Emulator both imported: two instances of the listener, the
# second skipping the messages the first has masked.
BOTH = "Library    TimedListenerLibrary.TimedEmulator"


def run_once(
    folder: Path, library: str, keywords: int, level: str, extra: str = ""
) -> tuple[float, float]:
    """CPU seconds and wall seconds of one ``robot`` process."""
    suite = folder / f"long_{library.replace('.', '_')}{'_both' if extra else ''}.robot"
    # Each loop round is three keywords (the iteration, Log, Should Be Equal).
    suite.write_text(
        SUITE.format(library=library, loops=keywords // 3, marker="x" * 8, extra=extra),
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(folder), str(ROOT / "src")]),
        RC_API_KEY="bench-env-key-12345678",
        RC_API_TOKEN_V1="bench-env-token-12345678",
        LISTENER_TIME_FILE=str(folder / "listener_time.txt"),
    )
    command = [
        PYTHON, "-m", "robot", "--output", str(folder / "output.xml"), "--log", "NONE",
        "--report", "NONE", "--loglevel", level, "--console", "none", str(suite),
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 keywords, 2 runs each")
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    keywords, repeat = (2_000, 2) if args.quick else (args.keywords, args.repeat)
    print(f"# Listener overhead: {keywords:,} keywords per run, {repeat} runs each\n")
    print(machine() + "\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "NoListenerLibrary.py").write_text(WITHOUT, encoding="utf-8")
        (folder / "TimedListenerLibrary.py").write_text(TIMED, encoding="utf-8")
        inside = []
        for level in ("INFO", "TRACE"):
            cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
            wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
            fixed = median([run_once(folder, "ProcessRunLibrary", 30, level)[0]
                            for _ in range(2)])  # fmt: skip
            for _ in range(repeat):  # interleaved, so that drift hits both alike
                for name, library in VARIANTS.items():
                    seconds, elapsed = run_once(folder, library, keywords, level)
                    cpu[name].append(seconds)
                    wall[name].append(elapsed)
            base = median(cpu[next(iter(VARIANTS))])
            best = min(cpu[next(iter(VARIANTS))])
            for name, values in cpu.items():
                rows.append(
                    [level, name, f"{min(values):.2f}", f"{min(values) / best:.3f}",
                     f"{median(values):.2f}", f"{median(values) / base:.3f}",
                     f"{(min(values) - fixed) / (best - fixed):.3f}",
                     f"{median(wall[name]):.2f}"]
                )  # fmt: skip
            rows.append([level, "30 keywords (the fixed cost)", "", "", f"{fixed:.2f}", "", "", ""])
            for imported, extra in (("ProcessRunLibrary", ""), ("and its Emulator", BOTH)):
                shares = []
                for _ in range(repeat):
                    seconds, _wall = run_once(
                        folder, "TimedListenerLibrary", keywords, level, extra
                    )
                    text_spent, text_calls = (folder / "listener_time.txt").read_text().split()
                    shares.append((float(text_spent), int(text_calls), seconds))
                spent, calls, seconds = sorted(shares)[len(shares) // 2]
                inside.append(
                    [level, imported, f"{calls:,}", f"{spent:.3f}", f"{seconds:.2f}",
                     f"{100 * spent / seconds:.1f} %",
                     f"{100 * spent / (seconds - fixed):.1f} %", f"{1e6 * spent / calls:.1f}"]
                )  # fmt: skip
    print(
        table(
            ["log level", "run", "best CPU s", "best / baseline", "median CPU s",
             "median / baseline", "best / baseline without the fixed cost", "median wall s"],
            rows,
        )
    )  # fmt: skip
    print(f"\nTime spent inside the listener's methods ({TIMED_VARIANT}; median run):\n")
    print(
        table(
            ["log level", "imported", "listener calls", "seconds in them", "run CPU s",
             "share of the run",
             "share without the fixed cost", "µs per call"],
            inside,
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

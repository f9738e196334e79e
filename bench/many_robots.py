"""Many robots at once: what N pabot processes, each waiting on its own run of one
process, cost Control Room (the emulator), against one robot that starts the same N
runs and waits on them with one `Wait Until Process Runs Complete`.

For N = 1, 4 and 16 (``--quick``: 1 and 4), runs of one process that take RUN_SECONDS
(the process has a history of 5 ended runs, seeded, so every wait predicts), real time:

* pabot: ``pabot --processes N --testlevelsplit`` over a suite of N tests, each
  ``Start Process Run And Wait`` (its own robot process, session and history);
* one group wait: one robot that starts the N runs and calls ``Wait Until Process Runs
  Complete`` on them.

From the emulator's request log: the API requests after the starts (the polls), their
rate over the time from the first start to the last answer, and the busiest second.

    .venv/bin/python bench/many_robots.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from _harness import API_KEY, PYTHON, ROOT, WORKSPACE_ID, Emulator, emulator, machine, table

PROCESS_ID = "nightly"
RUN_SECONDS = 20.0
HISTORY = [19.0, 19.5, 20.0, 20.5, 21.0]

SETTINGS = f"""*** Settings ***
Library    Collections
Library    ProcessRunLibrary    api_url=${{API_URL}}    workspace_id={WORKSPACE_ID}
...        api_key={API_KEY}    timeout=2 minutes
"""


def pabot_suite(count: int) -> str:
    tests = "".join(
        f"Run {i}\n    Start Process Run And Wait    {PROCESS_ID}\n" for i in range(count)
    )
    return f"{SETTINGS}\n*** Test Cases ***\n{tests}"


def group_suite(count: int) -> str:
    return (
        f"{SETTINGS}\n*** Test Cases ***\nOne Group Wait\n"
        "    @{ids} =    Create List\n"
        f"    FOR    ${{i}}    IN RANGE    {count}\n"
        f"        ${{id}} =    Start Process Run    {PROCESS_ID}\n"
        "        Append To List    ${ids}    ${id}\n"
        "    END\n"
        "    Wait Until Process Runs Complete    ${ids}\n"
    )


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run_robot(command: list[str], workdir: Path) -> float:
    started = time.monotonic()
    env = {**os.environ, "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=600, env=env
    )  # pabot finds `robot` on the PATH: this interpreter's
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.monotonic() - started


def measure(emu: Emulator, label: str, count: int, command: list[str], workdir: Path) -> Any:
    emu.clear_request_log()
    seconds = run_robot(command, workdir)
    log = emu.request_log()
    starts = [e for e in log if e["method"] == "POST"]
    polls = [e for e in log if e["method"] == "GET"]
    times = [parse_time(e["time"]) for e in log]
    span = max(times) - min(times) if len(times) > 1 else float("nan")
    busiest = max(Counter(int(t) for t in (parse_time(e["time"]) for e in polls)).values())
    return (
        str(count),
        label,
        len(starts),
        len(polls),
        f"{len(polls) / count:.1f}",
        f"{span:.1f}",
        f"{len(polls) / span:.2f}",
        busiest,
        f"{seconds:.1f}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1 and 4 only")
    args = parser.parse_args(argv)
    counts = [1, 4] if args.quick else [1, 4, 16]
    print(f"# Many robots\n\nMachine: {machine()}\n")
    rows = []
    started = time.monotonic()
    with emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        emu.define_process(PROCESS_ID, 0.5, RUN_SECONDS - 0.5)
        emu.seed_runs(PROCESS_ID, len(HISTORY), HISTORY)
        variable = ["--variable", f"API_URL:{emu.api_url}"]
        for count in counts:
            (workdir / "pabot.robot").write_text(pabot_suite(count))
            (workdir / "group.robot").write_text(group_suite(count))
            pabot = [
                str(Path(PYTHON).parent / "pabot"), "--processes", str(count), "--testlevelsplit", "--no-pabotlib",
                "--outputdir", str(workdir / f"pabot-{count}"), *variable, "pabot.robot",
            ]  # fmt: skip
            group = [
                PYTHON, "-m", "robot", "--outputdir", str(workdir / f"group-{count}"),
                *variable, "group.robot",
            ]  # fmt: skip
            rows.append(
                measure(emu, f"pabot, {count} processes, one wait each", count, pabot, workdir)
            )
            rows.append(measure(emu, "one robot, one group wait (baseline)", count, group, workdir))
    headers = (
        "runs",
        "how",
        "start requests",
        "poll requests",
        "polls per run",
        "seconds from first to last request",
        "poll requests/s",
        "busiest second (polls)",
        "wall s (incl. robot start-up)",
    )
    print(table(headers, rows))
    print(
        f"\nRuns of {RUN_SECONDS:g} s of one process with a history of {len(HISTORY)} runs "
        f"({', '.join(f'{h:g}' for h in HISTORY)} s); default poll_interval 10 s. "
        f"Measured in {time.monotonic() - started:.0f} s. Project root: {ROOT.name}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the library costs on top of its dependencies: import time and time per request.

(a) Import time, each in a fresh interpreter and timed inside it (start-up and exit not
    counted), best and median of several: ``import ProcessRunLibrary`` and import plus
    creating the library object, against ``import robot, requests``. ``-X importtime``
    names the modules the library adds.
(b) Per request, against one emulator: the keyword ``Get Process Run`` called on the
    library object, the plain client (``ControlRoomClient.get_process_run``) and raw
    ``requests.Session().get`` (the baseline), in interleaved blocks; the same for
    listing 100 runs (``List Process Runs`` with ``limit=100``). Wall time per call and
    this process's CPU time per call (the emulator runs in another process, so CPU time
    is the client side alone).

    .venv/bin/python bench/library_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from unittest import mock

import requests
from robot.utils import DotDict

from _harness import (
    API_KEY,
    PYTHON,
    ROOT,
    WORKSPACE_ID,
    Emulator,
    api_headers,
    emulator,
    machine,
    median,
    table,
)
from ProcessRunLibrary import ProcessRunLibrary, masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.keywords import processruns

IMPORTS = {
    "import robot, requests (baseline)": "import robot, requests",
    # What Robot pays at `Library  ProcessRunLibrary`: the package alone imports no Robot.
    "import ProcessRunLibrary": "from ProcessRunLibrary import ProcessRunLibrary",
    "import + ProcessRunLibrary()": (
        "from ProcessRunLibrary import ProcessRunLibrary; ProcessRunLibrary()"
    ),
    # What the first keyword pays on top: its session (requests, the client modules). The
    # import alone leaves that for later, so comparing it with the baseline flatters it.
    "import + ProcessRunLibrary() + first session": (
        "from ProcessRunLibrary import ProcessRunLibrary; "
        "ProcessRunLibrary(workspace_id='ws', api_key='key')._ctx.client()"
    ),
}
BASELINE_IMPORT = next(iter(IMPORTS))
TIMER = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


# --- (a) import time -------------------------------------------------------------------------


def time_statement(statement: str) -> float:
    """Seconds the statement takes in a fresh interpreter, start-up and exit excluded."""
    done = subprocess.run(
        [PYTHON, "-c", TIMER.format(statement)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    return float(done.stdout.strip().splitlines()[-1])


def import_times(repetitions: int) -> dict[str, list[float]]:
    """Times of each statement; interleaved so that drift hits all alike."""
    times: dict[str, list[float]] = {label: [] for label in IMPORTS}
    for _ in range(repetitions):
        for label, statement in IMPORTS.items():
            times[label].append(time_statement(statement))
    return times


def imported_modules(statement: str) -> dict[str, int]:
    """Module name -> self import time (us), from ``python -X importtime``."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    modules = {}
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            modules[parts[2].strip()] = int(parts[0])
    return modules


def import_report(times: dict[str, list[float]]) -> str:
    base_best, base_median = min(times[BASELINE_IMPORT]), median(times[BASELINE_IMPORT])
    rows = []
    for label, values in times.items():
        best, middle = min(values), median(values)
        rows.append(
            (
                label,
                f"{best * 1000:.0f}",
                f"{middle * 1000:.0f}",
                f"{best / base_best:.2f}x",
                f"{middle / base_median:.2f}x",
            )
        )
    headers = ("statement", "best (ms)", "median (ms)", "best vs baseline", "median vs baseline")
    return table(headers, rows)


def added_modules_report(top: int = 8) -> str:
    base = imported_modules(IMPORTS[BASELINE_IMPORT])
    mine = imported_modules(IMPORTS["import ProcessRunLibrary"])
    added = {name: us for name, us in mine.items() if name not in base}
    biggest = sorted(added.items(), key=lambda item: item[1], reverse=True)[:top]
    rows = [(name, f"{us / 1000:.1f}") for name, us in biggest]
    total = sum(added.values()) / 1000
    return (
        f"{len(added)} modules beyond the baseline's, {total:.0f} ms of self import time "
        f"(-X importtime, one run); the largest:\n\n" + table(("module", "self (ms)"), rows)
    )


def instance_time(count: int = 20) -> str:
    """Creating the library object, in this process (its modules are already imported)."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        ProcessRunLibrary()
        times.append(time.perf_counter() - started)
    return (
        f"Creating a ProcessRunLibrary object (in-process, modules already imported): "
        f"first {times[0] * 1000:.1f} ms, median of {count} {median(times) * 1000:.1f} ms."
    )


def dotdict_before(value: Any) -> Any:
    """to_dotdict as it was: Robot's DotDict, which converts nested dictionaries itself."""
    if isinstance(value, dict):
        return DotDict(value)
    if isinstance(value, list):
        return [dotdict_before(v) for v in value]
    return value


# --- (b) per request --------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    label: str
    function: Callable[[], Any]
    dotdict_before: bool = False  # converts answers with Robot's DotDict, as before


@dataclass
class Timing:
    wall: list[float]  # per call, one value per block
    cpu: list[float]


def calls_for(emu: Emulator, run_id: str) -> list[list[Call]]:
    """Groups of calls that do the same work; the first of each group is its baseline."""
    session = requests.Session()
    session.headers.update(api_headers())
    client = ControlRoomClient(emu.api_url, WORKSPACE_ID, Credentials(API_KEY))
    library = ProcessRunLibrary(api_url=emu.api_url, workspace_id=WORKSPACE_ID, api_key=API_KEY)
    run_url = f"{emu.workspace_url}/process-runs/{run_id}"
    list_url = f"{emu.workspace_url}/process-runs"
    list_params: dict[str, str | int] = {"process_id": "bench", "limit": 100}
    return [
        [
            Call("GET one run: raw requests (baseline)", lambda: session.get(run_url).json()),
            Call("GET one run: ControlRoomClient", lambda: client.get_process_run(run_id)),
            Call("GET one run: Get Process Run keyword", lambda: library.get_process_run(run_id)),
        ],
        [
            Call(
                "list 100 runs: raw requests (baseline)",
                lambda: session.get(list_url, params=list_params).json(),
            ),
            Call(
                "list 100 runs: ControlRoomClient",
                lambda: client.list_process_runs("bench", limit=100),
            ),
            Call(
                "list 100 runs: List Process Runs keyword",
                lambda: library.list_process_runs("bench", limit=100),
            ),
            Call(
                "list 100 runs: List Process Runs keyword, Robot's DotDict (before)",
                lambda: library.list_process_runs("bench", limit=100),
                dotdict_before=True,
            ),
        ],
    ]


def time_block(call: Call, count: int) -> tuple[float, float]:
    with contextlib.ExitStack() as stack:
        if call.dotdict_before:  # the conversion List Process Runs used before JsonDict
            stack.enter_context(mock.patch.object(processruns, "to_dotdict", dotdict_before))
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            call.function()
        return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def time_calls(calls: Sequence[Call], blocks: int, count: int) -> dict[str, Timing]:
    timings = {c.label: Timing([], []) for c in calls}
    for call in calls:  # warm-up: connections, caches
        time_block(call, 10)
    for _ in range(blocks):
        for call in calls:
            wall, cpu = time_block(call, count)
            timings[call.label].wall.append(wall)
            timings[call.label].cpu.append(cpu)
    return timings


def request_report(groups: Sequence[Sequence[Call]], timings: dict[str, Timing]) -> str:
    rows = []
    for group in groups:
        base = timings[group[0].label]
        base_wall, base_cpu = median(base.wall), median(base.cpu)
        for call in group:
            wall, cpu = median(timings[call.label].wall), median(timings[call.label].cpu)
            rows.append(
                (
                    call.label,
                    f"{wall * 1e6:,.0f}",
                    f"{wall / base_wall:.2f}x",
                    f"{cpu * 1e6:,.0f}",
                    f"{cpu / base_cpu:.2f}x",
                    f"{(cpu - base_cpu) * 1e6:+,.0f}",
                )
            )
    headers = (
        "call",
        "wall us/call",
        "wall vs baseline",
        "client CPU us/call",
        "CPU vs baseline",
        "added CPU us",
    )
    return table(headers, rows)


def masking_cost(emu: Emulator) -> str:
    """What masking a response body costs: the client masks every body for its DEBUG log."""
    params: dict[str, str | int] = {"process_id": "bench", "limit": 100}
    body = emu.api.get(f"{emu.workspace_url}/process-runs", params=params).text
    count = 200
    started = time.process_time()
    for _ in range(count):
        masking.mask(body)
    per_call = (time.process_time() - started) / count
    return (
        f"masking.mask() of one 100-run list body ({len(body):,} characters): "
        f"{per_call * 1e6:,.0f} us CPU per call."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    repetitions, blocks, count = (3, 3, 50) if args.quick else (15, 10, 200)
    print(f"# Library overhead\n\nMachine: {machine()}\n")
    print(f"## Import time ({repetitions} runs each, fresh interpreter each)\n")
    print(import_report(import_times(repetitions)))
    print()
    print(added_modules_report())
    print(f"\n{instance_time()}")
    print(f"\n## Per request ({blocks} interleaved blocks of {count} calls, median)\n")
    with emulator() as emu:
        emu.define_process("bench", 0.5, 3600)
        run_ids = [emu.start_run("bench") for _ in range(100)]
        groups = calls_for(emu, run_ids[0])
        timings = {}
        for group in groups:
            timings.update(time_calls(group, blocks, count))
        print(request_report(groups, timings))
        print()
        print(masking_cost(emu))
    return 0


if __name__ == "__main__":
    sys.exit(main())

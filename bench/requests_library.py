"""``Get Process Run`` against RequestsLibrary's ``GET On Session``: what one keyword call
costs the robot, in one robot run against one emulator.

One robot run holds, in rounds, three tests of N iterations each, in a rotating order:
``Get Process Run  ${id}``; ``GET On Session  cr  /workspaces/.../process-runs/${id}``
(the same request to the same emulator, both over keep-alive sessions, both at the
default log level INFO); and the same FOR loop with ``No Operation`` in place of the call
(the baseline that is subtracted: the loop, Robot's own cost of a keyword call, and
output.xml). A listener in the robot process reads its CPU time (``time.process_time``)
and wall time as each test starts and ends. The emulator runs in another process, so CPU
time is the robot's side alone; wall time includes the emulator and the machine's noise.

RequestsLibrary is no dependency of ProcessRunLibrary: the bench has its own environment.

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -e '.[emulator]' robotframework-requests
    .venv-bench/bin/python bench/requests_library.py [--calls 200] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import API_KEY, PYTHON, WORKSPACE_ID, emulator, machine, median, table

KINDS = {
    "library": "Get Process Run    ${ID}",
    "requests": "GET On Session    cr    ${PATH}",
    "baseline": "No Operation",
}

LISTENER = '''\
"""Per test: CPU and wall time of this robot process, written as JSON at the end."""
import json
import os
import time

ROBOT_LISTENER_API_VERSION = 3
TIMES = {}
_started = {}


def start_test(data, result):
    _started[result.name] = (time.process_time(), time.perf_counter())


def end_test(data, result):
    cpu, wall = _started.pop(result.name)
    TIMES[result.name] = {
        "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
        "status": result.status, "message": result.message,
    }


def close():
    with open(os.environ["BENCH_TIMES"], "w") as f:
        json.dump(TIMES, f)
'''

SUITE = """\
*** Settings ***
Library    ProcessRunLibrary    api_url=${{API_URL}}    workspace_id=${{WS}}    api_key=${{KEY}}
Library    RequestsLibrary
Suite Setup    Prepare

*** Test Cases ***
{tests}

*** Keywords ***
Prepare
    Create Session    cr    ${{API_URL}}    headers=${{{{{{"Authorization": "RC-WSKEY " + $KEY}}}}}}
    Set Suite Variable    ${{PATH}}    /workspaces/${{WS}}/process-runs/${{ID}}
    # Warm up both: the first call makes the session and imports what it needs.
    Get Process Run    ${{ID}}
    GET On Session    cr    ${{PATH}}
"""


def test_text(kind: str, round_number: int, calls: int) -> str:
    return (
        f"{kind} {round_number}\n"
        f"    FOR    ${{i}}    IN RANGE    {calls}\n"
        f"        {KINDS[kind]}\n"
        f"    END\n"
    )


def suite_text(calls: int, rounds: int) -> str:
    kinds = list(KINDS)
    tests: list[str] = []
    for number in range(1, rounds + 1):
        order = kinds[number % 3 :] + kinds[: number % 3]  # no kind always runs first
        tests.extend(test_text(kind, number, calls) for kind in order)
    return SUITE.format(tests="\n".join(tests))


def run_robot(api_url: str, run_id: str, calls: int, rounds: int) -> dict[str, dict]:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "timing_listener.py").write_text(LISTENER)
        (work / "calls.robot").write_text(suite_text(calls, rounds))
        times = work / "times.json"
        command = [
            PYTHON, "-m", "robot", "--variable", f"API_URL:{api_url}", "--variable", f"WS:{WORKSPACE_ID}",
            "--variable", f"KEY:{API_KEY}", "--variable", f"ID:{run_id}",
            "--listener", str(work / "timing_listener.py"), "--outputdir", str(work),
            "--log", "NONE", "--report", "NONE", "--console", "none", str(work / "calls.robot"),
        ]  # fmt: skip
        env = dict(os.environ, BENCH_TIMES=str(times))
        finished = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if not times.exists():
            raise RuntimeError(f"robot failed:\n{finished.stdout}\n{finished.stderr}")
        measured: dict[str, dict] = json.loads(times.read_text())
    failed = {name: t["message"] for name, t in measured.items() if t["status"] != "PASS"}
    if failed:
        raise RuntimeError(f"Tests failed: {failed}")
    return measured


def per_call(measured: dict[str, dict], number: int, kind: str, what: str, calls: int) -> float:
    """Milliseconds per call of ``kind`` in round ``number``, the baseline subtracted."""
    spent = measured[f"{kind} {number}"][what] - measured[f"baseline {number}"][what]
    return spent / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per test")
    parser.add_argument("--rounds", type=int, default=5, help="tests of each kind")
    parser.add_argument("--quick", action="store_true", help="50 calls, 2 rounds")
    args = parser.parse_args()
    calls, rounds = (50, 2) if args.quick else (args.calls, args.rounds)
    import robot.version

    print(machine())
    print(f"Robot Framework {robot.version.VERSION}, Python {sys.version.split()[0]}")
    with emulator() as running:
        running.define_process("quick", new_seconds=0.1, run_seconds=0.2)
        run_id = running.start_run("quick")
        measured = run_robot(running.api_url, run_id, calls, rounds)
    rows = []
    ratios: dict[str, list[float]] = {"cpu": [], "wall": []}
    cpu: dict[str, list[float]] = {"library": [], "requests": []}
    for number in range(1, rounds + 1):
        row: list[object] = [number]
        for what in ("cpu", "wall"):
            library = per_call(measured, number, "library", what, calls)
            requests = per_call(measured, number, "requests", what, calls)
            ratios[what].append(library / requests)
            if what == "cpu":
                cpu["library"].append(library)
                cpu["requests"].append(requests)
            row += [f"{library:.3f}", f"{requests:.3f}", f"{library / requests:.2f}x"]
        rows.append(row)
    rows.append(
        [
            "median",
            "",
            "",
            f"{median(ratios['cpu']):.2f}x",
            "",
            "",
            f"{median(ratios['wall']):.2f}x",
        ]
    )
    print(
        f"\n{calls} calls per test, {rounds} rounds; ms per call with the No Operation loop "
        "subtracted (CPU of the robot process; wall time)\n"
    )
    print(
        table(
            [
                "round",
                "Get Process Run CPU",
                "GET On Session CPU",
                "CPU ratio",
                "Get Process Run wall",
                "GET On Session wall",
                "wall ratio",
            ],
            rows,
        )
    )
    baseline = median(
        [measured[f"baseline {n}"]["cpu"] / calls * 1000 for n in range(1, rounds + 1)]
    )
    print(f"\nThe No Operation loop itself: {baseline:.3f} ms CPU per iteration (median).")
    library, requests = median(cpu["library"]), median(cpu["requests"])
    print(
        f"Median CPU per call: Get Process Run {library:.3f} ms, GET On Session "
        f"{requests:.3f} ms ({(library - requests) * 1000:+.0f} µs a call)."
    )


if __name__ == "__main__":
    main()

"""Run every check the project has, as CI does: lint, types, unit tests, acceptance tests
(in parallel with pabot, against one shared emulator) and the example suite.

    python run_tests.py            everything
    python run_tests.py --quick    lint, types and unit tests only

Ends with one line `N passed, N failed` counting unit and acceptance tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PY = sys.executable


def run(name: str, command: list[str]) -> tuple[bool, str]:
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    result = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    print(result.stdout, end="", flush=True)
    return result.returncode == 0, result.stdout


def robot_counts(output: Path) -> tuple[int, int]:
    from robot.api import ExecutionResult

    stats = ExecutionResult(str(output)).statistics.total
    return stats.passed, stats.failed


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    passed = failed = 0
    failures = []
    for name, command in [
        ("ruff lint", [PY, "-m", "ruff", "check", "--no-cache", "."]),
        ("ruff format", [PY, "-m", "ruff", "format", "--no-cache", "--check", "."]),
        ("mypy", [PY, "-m", "mypy"]),
    ]:
        if not run(name, command)[0]:
            failures.append(name)
    ok, out = run("unit tests", [PY, "-m", "pytest", "utest", "-q", "-p", "no:cacheprovider"])
    counts = re.search(r"(\d+) passed", out), re.search(r"(\d+) failed", out)
    passed += int(counts[0][1]) if counts[0] else 0
    failed += int(counts[1][1]) if counts[1] else 0
    if not ok:
        failures.append("unit tests")
    if not quick:
        ok, _ = run(
            "acceptance tests (pabot, one shared emulator)", [PY, "atest/run.py", "--pabot"]
        )
        p, f = robot_counts(ROOT / "results" / "atest" / "output.xml")
        passed, failed = passed + p, failed + f
        if not ok:
            failures.append("acceptance tests")
        ok, _ = run(
            "example suite", [PY, "-m", "robot", "--outputdir", "results/example", "examples"]
        )
        p, f = robot_counts(ROOT / "results" / "example" / "output.xml")
        passed, failed = passed + p, failed + f
        if not ok:
            failures.append("example suite")
    print()
    print("Failed steps: " + ", ".join(failures) if failures else "Every step passed.")
    print(f"{passed} passed, {failed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

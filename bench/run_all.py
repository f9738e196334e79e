"""Every benchmark, one after the other, each printing its figures beside baselines
measured in the same run; the detection-lag chart and the schedule picture are redrawn.

    .venv/bin/python bench/run_all.py [--quick] [--charts docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "detection_lag",
    "schedule_simulation",
    "many_runs",
    "many_robots",
    "long_lists",
    "library_overhead",
    "emulator_throughput",
    "listener_overhead",
    "download_memory",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's smoke run")
    parser.add_argument("--charts", help="write the PNG charts into this directory")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    failed = []
    for name in args.only or BENCHMARKS:
        command = [sys.executable, str(HERE / f"{name}.py")]
        if args.quick:
            command.append("--quick")
        if args.charts and name == "detection_lag":
            command += ["--chart", str(Path(args.charts) / "polling-lag-vs-requests.png")]
        started = time.monotonic()
        print(f"\n<!-- {' '.join(command[1:])} -->", flush=True)
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
        print(f"\n({name}: {time.monotonic() - started:.0f} s)", flush=True)
    if args.charts:
        picture = Path(args.charts) / "predictive-polling.png"
        subprocess.run(
            [sys.executable, str(HERE / "schedule_picture.py"), str(picture)], check=False
        )
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

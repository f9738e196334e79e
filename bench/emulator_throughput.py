"""GET requests per second with keep-alive: the emulator vs. a minimal aiohttp app.

Three servers, measured one after the other in rounds, with the same load generator in
the same run:

* the emulator answering ``GET /process-runs/{id}`` (one run, with its API key);
* the emulator answering ``GET /process-runs?process_id=...&limit=100`` (100 runs: what
  RunWatcher sends once a round);
* the baseline: a one-route aiohttp app in its own process that returns a JSON body of
  the size of one run (no auth, no request log, no state).

The load generator is ``wrk`` (a C program: apt-get install wrk) when it is on PATH, at 1,
10 and 50 keep-alive connections. Without it, an aiohttp client in another process is
used, and the figures say so: a Python client at 100 % CPU measures itself as much as
the server (the earlier 0.99x figure of docs/benchmarks.md was such a measurement).
Besides the rate, the server's own CPU time per request is read from /proc.

    .venv/bin/python bench/emulator_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from _harness import (
    PYTHON,
    ROOT,
    START_TIMEOUT,
    Emulator,
    api_headers,
    busy_cpu_seconds,
    emulator,
    first_line,
    machine,
    median,
    process_cpu_seconds,
    resident_mib,
    stop_process,
    table,
)

TARGET_RATIO = 0.5  # GET one run vs. the baseline, with wrk (issue 19)
CONNECTIONS = 16  # the Python load generator's
WRK_CONNECTIONS = (1, 10, 50)
WRK = shutil.which("wrk")
MAX_REQUESTS = 100_000
BASELINE_PREFIX = "baseline listening on "
RUN_LIKE_BODY = {
    "id": "3f1c0a52-8f0e-4c55-9a0e-6f2b1c7d9e10",
    "state": "in_progress",
    "created_at": "2024-01-01T00:00:00.000Z",
    "started_at": "2024-01-01T00:00:00.500Z",
    "ended_at": None,
    "duration": None,
    "process": {"id": "bench", "name": "bench"},
    "started_by": {"type": "api", "details": None},
}


# --- the baseline server (a subprocess running this file with --serve-baseline) -----------


async def serve_baseline() -> None:
    from aiohttp import web

    body = json.dumps(RUN_LIKE_BODY, separators=(",", ":"))

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/run", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"{BASELINE_PREFIX}http://127.0.0.1:{runner.addresses[0][1]}/run", flush=True)
    try:
        await asyncio.Event().wait()  # until SIGTERM
    finally:
        await runner.cleanup()


@contextmanager
def baseline_server() -> Iterator[tuple[str, int]]:
    process = subprocess.Popen(
        [PYTHON, __file__, "--serve-baseline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        line = first_line(process.stdout, START_TIMEOUT) if process.stdout else ""
        if not line.startswith(BASELINE_PREFIX):
            raise RuntimeError(f"The baseline server did not start: {line!r}.")
        yield line[len(BASELINE_PREFIX) :], process.pid
    finally:
        stop_process(process)


# --- the load generator (a subprocess running this file with --load) -----------------------


async def generate_load(url: str, connections: int, max_requests: int, seconds: float) -> dict:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections)
    done = errors = warm_up = 0
    async with aiohttp.ClientSession(connector=connector, headers=api_headers()) as session:

        async def worker(deadline: float, counting: bool) -> None:
            nonlocal done, errors, warm_up
            while time.monotonic() < deadline and (not counting or done < max_requests):
                try:
                    async with session.get(url) as response:
                        await response.read()
                        ok = response.status == 200
                except aiohttp.ClientError:
                    ok = False
                if not counting:
                    warm_up += 1
                elif ok:
                    done += 1
                else:
                    errors += 1

        warm = time.monotonic() + 0.5
        await asyncio.gather(*(worker(warm, False) for _ in range(connections)))
        started = time.monotonic()
        cpu = time.process_time()
        await asyncio.gather(*(worker(started + seconds, True) for _ in range(connections)))
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu
    return {
        "requests": done,
        "warm_up": warm_up,
        "errors": errors,
        "seconds": elapsed,
        "client_cpu": client_cpu,
        "client_total_cpu": sum(os.times()[:2]),
    }


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    label: str
    url: str
    pid: int


@dataclass(frozen=True)
class Sample:
    target: str
    connections: int
    rate: float
    server_cpu_per_request: float  # seconds
    server_cpu_share: float  # of one core
    client_cpu_share: float
    other_cpu: float  # cores busy with other processes of the machine during the sample
    errors: int


def run_wrk(url: str, connections: int, seconds: float) -> dict:
    """wrk's count of answers and errors (non-2xx answers and socket errors)."""
    header = "Authorization: " + api_headers()["Authorization"]
    command = [
        WRK or "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-H",
        header,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{done.stderr[-2000:]}")
    answered = re.search(r"(\d+) requests in ([\d.]+)(m?s)", done.stdout)
    if answered is None:
        raise RuntimeError(f"wrk's output was not understood:\n{done.stdout}")
    elapsed = float(answered[2]) / (1000 if answered[3] == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    socket_errors = re.search(r"Socket errors: (.*)", done.stdout)
    errors = int(bad[1]) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    requests = int(answered[1]) - (int(bad[1]) if bad else 0)
    return {"requests": requests, "warm_up": 0, "errors": errors, "seconds": elapsed}


def run_python_client(url: str, connections: int, seconds: float) -> dict:
    command = [PYTHON, __file__, "--load", url, "--connections", str(connections)]
    command += ["--max-requests", str(MAX_REQUESTS), "--seconds", str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"The load generator failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(target: Target, connections: int, seconds: float) -> Sample:
    cpu_before, busy_before, started = (
        process_cpu_seconds(target.pid),
        busy_cpu_seconds(),
        time.monotonic(),
    )
    load = run_wrk if WRK else run_python_client
    result = load(target.url, connections, seconds)
    cpu = process_cpu_seconds(target.pid) - cpu_before
    busy, wall = busy_cpu_seconds() - busy_before, time.monotonic() - started
    requests, elapsed = result["requests"], result["seconds"]
    served = requests + result["errors"] + result["warm_up"]  # the server's CPU covers all
    return Sample(
        target.label,
        connections,
        rate=requests / elapsed,
        server_cpu_per_request=cpu / max(served, 1),
        server_cpu_share=cpu / wall,
        # wrk's own CPU is in "other processes".
        client_cpu_share=result.get("client_cpu", 0.0) / elapsed,
        other_cpu=max(busy - cpu - result.get("client_total_cpu", 0.0), 0) / wall,
        errors=result["errors"],
    )


def prepare_targets(emu: Emulator, baseline: tuple[str, int]) -> list[Target]:
    emu.define_process("bench", 0.5, 3600)
    run_ids = [emu.start_run("bench") for _ in range(100)]
    pid = emu.process.pid
    return [
        Target("baseline: minimal aiohttp app", baseline[0], baseline[1]),
        Target("emulator: GET one run", f"{emu.workspace_url}/process-runs/{run_ids[0]}", pid),
        Target(
            "emulator: list 100 runs",
            f"{emu.workspace_url}/process-runs?process_id=bench&limit=100",
            pid,
        ),
    ]


def report(targets: Sequence[Target], samples: Sequence[Sample]) -> str:
    def of(label: str, connections: int, attribute: str) -> float:
        chosen = [s for s in samples if s.target == label and s.connections == connections]
        return median([getattr(s, attribute) for s in chosen])

    rows = []
    for connections in sorted({s.connections for s in samples}):
        base_rate = of(targets[0].label, connections, "rate")
        base_cpu = of(targets[0].label, connections, "server_cpu_per_request")
        for target in targets:
            rate = of(target.label, connections, "rate")
            cpu = of(target.label, connections, "server_cpu_per_request")
            rates = [
                s.rate for s in samples if s.target == target.label and s.connections == connections
            ]
            rows.append(
                (
                    connections,
                    target.label,
                    f"{rate:,.0f}",
                    f"{min(rates):,.0f} - {max(rates):,.0f}",
                    f"{rate / base_rate:.2f}x",
                    f"{cpu * 1e6:,.0f}",
                    f"{cpu / base_cpu:.2f}x",
                    f"{of(target.label, connections, 'server_cpu_share'):.0%}",
                    f"{of(target.label, connections, 'other_cpu'):.2f}",
                    sum(
                        s.errors
                        for s in samples
                        if s.target == target.label and s.connections == connections
                    ),
                )
            )
    headers = (
        "connections",
        "server",
        "req/s (median)",
        "req/s (range)",
        "rate vs baseline",
        "server CPU us/req",
        "CPU vs baseline",
        "server CPU",
        "other processes (cores)",
        "errors",
    )
    return table(headers, rows)


def memory_check(emu: Emulator, target: Target, seconds: float) -> str:
    """The emulator's resident memory before and after a run that fills its request log."""
    emu.clear_request_log()
    before = resident_mib(emu.process.pid)
    sample = measure(target, 10, seconds)
    logged = len(emu.request_log())
    after = resident_mib(emu.process.pid)
    emu.clear_request_log()
    cleared = resident_mib(emu.process.pid)
    return (
        f"Emulator memory: {before:.0f} MiB with an empty request log, {after:.0f} MiB after "
        f"{sample.rate * seconds:,.0f} more requests ({logged:,} log entries kept), "
        f"{cleared:.0f} MiB after clearing the log."
    )


def run_benchmark(quick: bool) -> int:
    rounds, seconds = (1, 2.0) if quick else (5, 3.0)
    levels = WRK_CONNECTIONS if WRK else (CONNECTIONS,)
    print(f"# Emulator throughput\n\nMachine: {machine()}")
    generator = (
        "wrk (one thread)"
        if WRK
        else "a Python aiohttp client (wrk not found: this measures the client as much as "
        "the server)"
    )
    print(
        f"Load: {generator}, keep-alive connections {', '.join(map(str, levels))}, "
        f"{seconds:g} s a sample; {rounds} round(s), median shown. Load average before: "
        f"{os.getloadavg()[0]:.2f}.\n"
    )
    samples = []
    with emulator() as emu, baseline_server() as baseline:
        targets = prepare_targets(emu, baseline)
        for target in targets:  # warm-up
            measure(target, levels[0], 1.0)
        for _ in range(rounds):
            for connections in levels:
                for target in targets:
                    emu.clear_request_log()
                    samples.append(measure(target, connections, seconds))
        memory = memory_check(emu, targets[1], seconds)
    print(report(targets, samples))
    print(f"\n{memory}")
    for connections in levels:
        chosen = [s for s in samples if s.connections == connections]
        ratio = median([s.rate for s in chosen if s.target == targets[1].label]) / median(
            [s.rate for s in chosen if s.target == targets[0].label]
        )
        met = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(
            f"Target >= {TARGET_RATIO:.2f}x of the baseline for GET one run at {connections} "
            f"connection(s): {ratio:.2f}x, {met}."
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one round of 2 s (default: 5 rounds of 3 s)"
    )
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help=argparse.SUPPRESS)
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        asyncio.run(serve_baseline())
        return 0
    if args.load:
        load = generate_load(args.load, args.connections, args.max_requests, args.seconds)
        print(json.dumps(asyncio.run(load)))
        return 0
    return run_benchmark(args.quick)


if __name__ == "__main__":
    sys.exit(main())

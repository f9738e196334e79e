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

With ``--compare-with SRC`` a second emulator, started with ``PYTHONPATH=SRC`` (e.g. the
``src`` folder of an older checkout), is measured in the same rounds: before and after
side by side.

Last, the in-process cost: CPU time of the app's own request handling (aiohttp's
``Application._handle``: routing, middleware, handler, building the answer) for GETs of
one run, without the network, the HTTP parser or the load generator: the emulator's app
against the baseline's. On a loaded machine it is the steadiest figure.

    .venv/bin/python bench/emulator_throughput.py [--quick] [--compare-with SRC]
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
BENCH_PROCESS: dict[str, Any] = {
    "id": "bench",
    "name": "bench",
    "new_seconds": 0.5,
    "run_seconds": 3600,
}
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


def baseline_app() -> Any:
    from aiohttp import web

    body = json.dumps(RUN_LIKE_BODY, separators=(",", ":"))

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/run", handler)
    return app


async def serve_baseline() -> None:
    from aiohttp import web

    runner = web.AppRunner(baseline_app(), access_log=None)
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


@contextmanager
def python_path(src: Path | None) -> Iterator[None]:
    """Processes started inside import the emulator from `src` (None: this checkout)."""
    before = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = str(src)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


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


# --- in process: the app's own handling of a request (a subprocess: --in-process N) -------


class _Transport:
    """What a request asks of its connection's transport, with no socket behind it."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8080) if name in ("peername", "sockname") else default

    def is_closing(self) -> bool:
        return False


class _Protocol:
    """What a request asks of its connection (aiohttp's RequestHandler)."""

    ssl_context = None
    peername = ("127.0.0.1", 40000)
    sockname = ("127.0.0.1", 8080)
    transport = _Transport()


async def time_in_process(count: int) -> dict[str, list[float]]:
    """CPU µs per GET through `Application._handle` (the router, the middleware, the
    handler, the answer built, not sent), best of rounds, for the baseline and the
    emulator (imported from PYTHONPATH when set)."""
    from aiohttp import web
    from aiohttp.http import HttpVersion11, RawRequestMessage
    from aiohttp.streams import EMPTY_PAYLOAD
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL

    from ProcessRunLibrary.emulator.__main__ import build_context, parse_args
    from ProcessRunLibrary.emulator.processes import parse_process
    from ProcessRunLibrary.emulator.server.app import create_app

    argv = ["--workspace-id", "ws", "--api-key", "bench-key"]
    ctx = build_context(parse_args(argv))
    emulator_app = create_app(ctx)
    # As emulator_targets() defines it: a run in progress.
    ctx.workspace.define_process(parse_process(BENCH_PROCESS, "bench"))
    run_id = ctx.workspace.start_run("bench", None)["id"]
    headers = {"Host": "127.0.0.1:8080", **api_headers()}
    raw_headers = tuple((k.encode(), v.encode()) for k, v in headers.items())
    loop = asyncio.get_running_loop()
    protocol: Any = _Protocol()

    def request(path: str) -> web.Request:
        message = RawRequestMessage(
            "GET",
            path,
            HttpVersion11,
            CIMultiDictProxy(CIMultiDict(headers)),
            raw_headers,
            False,
            None,
            False,
            False,
            URL(path),
        )
        task: Any = None
        return web.Request(message, EMPTY_PAYLOAD, protocol, None, task, loop)  # type: ignore[arg-type]

    async def per_request(app: web.Application, path: str) -> float:
        started = time.process_time()
        for _ in range(count):
            answer = await app._handle(request(path))
        if answer.status != 200:
            raise RuntimeError(f"{path} answered {answer.status}.")
        return (time.process_time() - started) / count

    results: dict[str, list[float]] = {"baseline": [], "emulator": []}
    apps = {
        "baseline": (baseline_app(), "/run"),
        "emulator": (emulator_app, f"/api/v1/workspaces/ws/process-runs/{run_id}"),
    }
    for app, _ in apps.values():
        app.freeze()
    for _ in range(5):
        for label, (app, path) in apps.items():
            results[label].append(await per_request(app, path))
            ctx.log.clear()
    return results


def in_process_report(compare_with: Path | None, count: int) -> str:
    """The in-process figures of this checkout's emulator (and of SRC's), each measured in
    a fresh process, best of 5 rounds of `count` GETs."""
    sources: list[Path | None] = [None] if compare_with is None else [None, compare_with]
    lines = [f"In-process handling of GET one run ({count:,} requests, best of 5 rounds, CPU):"]
    for src in sources:
        with python_path(src):
            command = [PYTHON, __file__, "--in-process", str(count)]
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=ROOT, timeout=600, check=True
            )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        base, emu = min(figures["baseline"]), min(figures["emulator"])
        name = "this checkout" if src is None else str(src)
        lines.append(
            f"- emulator from {name}: {emu * 1e6:.1f} µs, baseline app {base * 1e6:.1f} µs "
            f"({emu / base:.1f}x)"
        )
    return "\n".join(lines)


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


def emulator_targets(emu: Emulator, label: str, listing: bool) -> list[Target]:
    emu.define_process("bench", BENCH_PROCESS["new_seconds"], BENCH_PROCESS["run_seconds"])
    run_ids = [emu.start_run("bench") for _ in range(100)]
    pid = emu.process.pid
    targets = [
        Target(f"{label}: GET one run", f"{emu.workspace_url}/process-runs/{run_ids[0]}", pid)
    ]
    if listing:
        url = f"{emu.workspace_url}/process-runs?process_id=bench&limit=100"
        targets.append(Target(f"{label}: list 100 runs", url, pid))
    return targets


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


def run_benchmark(quick: bool, compare_with: Path | None) -> int:
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
    with ExitStack() as stack:
        emu = stack.enter_context(emulator())
        baseline = stack.enter_context(baseline_server())
        emulators = [emu]
        targets = [Target("baseline: minimal aiohttp app", baseline[0], baseline[1])]
        targets += emulator_targets(emu, "emulator", listing=True)
        if compare_with is not None:
            with python_path(compare_with):
                emulators.append(stack.enter_context(emulator()))
            targets += emulator_targets(emulators[1], f"emulator from {compare_with}", False)
        for target in targets:  # warm-up
            measure(target, levels[0], 1.0)
        for _ in range(rounds):
            for connections in levels:
                for target in targets:
                    for running in emulators:
                        running.clear_request_log()
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
    print(f"\n{in_process_report(compare_with, 2_000 if quick else 20_000)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one round of 2 s (default: 5 rounds of 3 s)"
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="SRC",
        help="also measure an emulator imported from SRC (e.g. an older checkout's src)",
    )
    parser.add_argument("--in-process", type=int, metavar="N", help=argparse.SUPPRESS)
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
    if args.in_process:
        print(json.dumps(asyncio.run(time_in_process(args.in_process))))
        return 0
    return run_benchmark(args.quick, args.compare_with)


if __name__ == "__main__":
    sys.exit(main())

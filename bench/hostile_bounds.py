"""How far past its documented bound does a keyword end against a hostile server?

    .venv/bin/python bench/hostile_bounds.py          # ~60 s

Starts the hostile servers of the acceptance tests (atest/resources/HostileServer.py)
on 127.0.0.1, runs each keyword through the library as Robot Framework would call it,
and prints a Markdown table: the scenario, the bound the docs promise, the time taken,
the overshoot, and the message. Nothing is asserted; the figures go to docs/design.md.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-hostile-key-0123456789"


def _bound(request_timeout: float, max_retries: int) -> float:
    """The documented bound of a keyword that is not a wait: every attempt, and the
    longest backoff before each retry (0.5 s, 1 s, 2 s, ... plus 0.25 s of jitter)."""
    backoffs = sum(min(0.5 * 2**n, 30) + 0.25 for n in range(max_retries))
    return (max_retries + 1) * request_timeout + backoffs


def _hostile() -> Any:
    spec = importlib.util.spec_from_file_location(
        "HostileServer", ROOT / "atest" / "resources" / "HostileServer.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HostileServer()


def main() -> int:
    from ProcessRunLibrary import ProcessRunLibrary

    servers = _hostile()
    servers.start_hostile_servers()
    rows = []
    # scenario, keyword, arguments, session settings, the documented bound in seconds
    # fmt: off
    cases: list[tuple[str, str, list[Any], dict[str, Any], float]] = [
        ("drip", "Get Process Run", ["r1"], {"request_timeout": 2, "max_retries": 0}, 2),
        ("drip-headers", "Get Process Run", ["r1"], {"request_timeout": 2, "max_retries": 0}, 2),
        ("hang", "Get Process Run", ["r1"], {"request_timeout": 2, "max_retries": 0}, 2),
        ("drip", "Get Process Run", ["r1"], {"request_timeout": 2}, _bound(2, 3)),
        ("drip", "Get Process Run", ["r1"], {"request_timeout": 1, "max_retries": 2}, _bound(1, 2)),
        ("hang", "Start Process Run", ["p1"], {"request_timeout": 2, "max_retries": 3}, 2),
        ("drip", "Wait Until Process Run Completes", ["r1", "3 s"], {"max_retries": 3}, 3),
        ("drip-headers", "Wait Until Process Run Completes", ["r1", "3 s"], {"max_retries": 3}, 3),
        ("hang", "Wait Until Process Run Completes", ["r1", "3 s"], {"max_retries": 3}, 3),
        ("retry-after", "Wait Until Process Run Completes", ["r1", "3 s"], {"max_retries": 3}, 3),
        ("retry-after", "Wait Until Process Runs Complete", [["r1", "r2"], "3 s"], {"max_retries": 3}, 3),
        ("hang", "Wait Until Process Runs Complete", [["r1", "r2"], "3 s"], {"max_retries": 3}, 3),
        ("hang", "Wait Until Process Run Completes", ["r1", "0 s"], {"max_retries": 3}, 0),
        ("huge", "Get Process Run", ["r1"], {"request_timeout": 10}, 10),
    ]
    # fmt: on
    try:
        for scenario, keyword, args, settings, bound in cases:
            library = ProcessRunLibrary(
                api_url=servers.hostile_api_url(scenario), workspace_id="ws", api_key=KEY
            )
            library.run_keyword("create_control_room_session", ["bench"], settings)
            started = time.monotonic()
            try:
                library.run_keyword(keyword.lower().replace(" ", "_"), args, {})
                outcome = "passed"
            except Exception as error:  # the message is what we print
                outcome = str(error).replace("\n", " ")
            elapsed = time.monotonic() - started
            library.run_keyword("close_all_control_room_sessions", [], {})
            shown = ", ".join(f"{k}={v}" for k, v in settings.items())
            rows.append(
                f"| {scenario} | {keyword} {args} ({shown}) | {bound:g} s | {elapsed:.2f} s "
                f"| {elapsed - bound:+.2f} s | {outcome[:110]} |"
            )
            print(rows[-1], flush=True)
    finally:
        servers.stop_hostile_servers()
    print()
    print("| scenario | keyword | bound | took | overshoot | outcome |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Callbacks of a run whose steps are real commands: its moments are not known in advance,
so the run tells the callbacks when it moves."""

from __future__ import annotations

import json
import sys

from aiohttp.test_utils import TestClient
from test_callbacks import Receiver, run, start, until

from ProcessRunLibrary.emulator.processes import parse_process
from ProcessRunLibrary.emulator.server.context import Context


def test_started_and_the_outcome_of_a_run_of_commands_are_posted() -> None:
    receiver = Receiver()
    exits = {"ok": "0", "bad": "3"}

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        for name, code in exits.items():
            command = [sys.executable, "-c", f"import sys; sys.exit({code})"]
            step = {"name": "S", "command": command}
            ctx.workspace.define_process(parse_process({"id": name, "steps": [step]}))
            await start(client, name, url)
            await until(lambda: len(receiver.received) == 2, timeout=20)
            events.append(receiver.events())
            states.append(
                [
                    json.loads(body)["payload"]["process_run"]["state"]
                    for _, _, body in receiver.received
                ]
            )
            receiver.received.clear()

    events: list[list[str]] = []
    states: list[list[str]] = []
    run(scenario, receiver)
    assert events == [
        ["process_run.started", "process_run.completed"],
        ["process_run.started", "process_run.unresolved"],
    ]
    assert states == [["in_progress", "completed"], ["in_progress", "unresolved"]]

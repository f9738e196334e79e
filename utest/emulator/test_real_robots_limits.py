"""What a hostile or careless command cannot do to the emulator: names that are not UTF-8,
links and FIFOs in ROBOT_ARTIFACTS, endless lines, floods of output, a reset or a stop
while its process is being created. Real child processes; the emulator over real HTTP, or
in this process where the moment matters (before its event loop runs again)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import requests
import test_real_robots
from test_real_robots import Live, Worker, error, gone, until

from ProcessRunLibrary.emulator.processes import parse_process
from ProcessRunLibrary.emulator.state import Workspace

# The fixtures of test_real_robots.py: an emulator with --allow-commands, reset per test.
commands_emulator = test_real_robots.commands_emulator
live = test_real_robots.live


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def run_once(live: Live, code: str) -> tuple[str, dict[str, Any]]:
    live.define("p", steps=[{"name": "S", "command": python(code)}])
    run_id = live.start("p", {"type": "with_payloads", "payloads": [{}]})
    live.ended(run_id)
    [step_run] = live.step_runs(run_id)
    return run_id, step_run


def artifacts(live: Live, step_run_id: str) -> list[dict[str, Any]]:
    return list(live.api("GET", f"/step-runs/{step_run_id}/artifacts?limit=100").json()["data"])


def download(live: Live, step_run_id: str, artifact_id: str) -> bytes:
    path = f"/step-runs/{step_run_id}/artifacts/{artifact_id}"
    return requests.get(live.api("GET", path).json()["url"], timeout=30).content


# --- ROBOT_ARTIFACTS -----------------------------------------------------------------------


def test_an_artifact_name_that_is_not_utf8_does_not_hold_up_the_run(live: Live) -> None:
    code = "import os; open(os.path.join(os.environb[b'ROBOT_ARTIFACTS'], b'\\xff.txt'), 'wb')"
    run_id, step_run = run_once(live, code)
    assert live.run_state(run_id) == "completed"
    assert [(a["name"], a["size"]) for a in artifacts(live, step_run["id"])] == [("\ufffd.txt", 0)]


LEAVES = """
import os
folder = os.environ['ROBOT_ARTIFACTS']
os.symlink('/etc/passwd', os.path.join(folder, 'passwd'))
os.symlink('/etc', os.path.join(folder, 'etc'))
os.mkfifo(os.path.join(folder, 'fifo'))
os.mkdir(os.path.join(folder, 'logs'))
with open(os.path.join(folder, 'logs', 'big.bin'), 'wb') as file:
    file.write(bytes(range(256)) * 12288)
print(folder)
"""


def test_artifacts_are_the_regular_files_left_copied_into_the_spool(live: Live) -> None:
    _run_id, step_run = run_once(live, LEAVES)
    [folder] = live.console(step_run["id"])
    [big] = artifacts(live, step_run["id"])  # no link is followed, no FIFO read
    assert (big["name"], big["size"]) == ("logs/big.bin", 3 * 1024 * 1024)
    # The command's folder is gone once its step run ended: a link put there later is
    # never read. The bytes are in the workspace's spool, on disk, not in memory.
    assert not Path(folder).exists()
    assert download(live, step_run["id"], big["id"]) == bytes(range(256)) * 12288


# --- console -------------------------------------------------------------------------------


def test_an_endless_line_is_one_console_message_cut_at_64_kib(live: Live) -> None:
    code = "import sys; sys.stdout.write('x' * 1_000_000 + '\\nnext\\n')"
    _run_id, step_run = run_once(live, code)
    assert live.console(step_run["id"]) == ["x" * 65536, "next"]


def test_a_step_run_keeps_at_most_16_mib_of_console_text(live: Live) -> None:
    code = "import sys; sys.stdout.write(('y' * 65535 + '\\n') * 300)"
    _run_id, step_run = run_once(live, code)
    messages = []
    path = f"/step-runs/{step_run['id']}/console-messages?limit=100"
    while path:
        page = live.api("GET", path).json()
        messages += [m["message"] for m in page["data"]]
        path = page["next"] and page["next"][len(live.ws_url) :]
    assert messages == ["y" * 65535] * 256 + [
        "(The emulator keeps the first 16777216 characters of a step run's console messages.)"
    ]


# --- the working directory -----------------------------------------------------------------


def test_a_cwd_that_does_not_exist_is_refused_when_defined(live: Live, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    step = {"name": "S", "command": ["true"], "cwd": str(missing)}
    response = live.http.put(
        f"{live.root}/_emulator/processes/p", json={"steps": [step]}, timeout=10
    )
    assert error(response) == (
        400,
        "bad_request",
        f"Process 'p', step 'S': 'cwd' must be an existing folder: {missing}.",
    )


def test_a_cwd_removed_since_fails_the_step_run_naming_the_cwd(live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    live.define("p", steps=[{"name": "S", "command": ["true"], "cwd": str(folder)}])
    folder.rmdir()
    run_id = live.start("p", {"type": "with_payloads", "payloads": [{}]})
    assert live.ended(run_id) == "unresolved"
    [step_run] = live.step_runs(run_id)
    [item] = live.items(run_id)
    assert item["exception"]["message"] == (
        f"The command of step run {step_run['id']} could not be started: "
        f"No such file or directory: {folder} (the step's 'cwd')."
    )


# --- the worker-side API -------------------------------------------------------------------


def test_an_output_is_not_released(live: Live) -> None:
    live.define_hold()
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    env = live.held()[0]
    worker = Worker(env)
    output = worker.output(env["RC_WORKITEM_ID"], {}).json()["id"]
    assert error(worker.release(output, "COMPLETED")) == (
        409,
        "conflict",
        f"Work item '{output}' is an output of step run '{env['RC_ACTIVITY_RUN_ID']}': "
        "it releases only the items it reserved.",
    )
    live.release(env)
    assert live.ended(run_id) == "completed"


# --- a reset or a stop at the wrong moment (in this process: no event loop turn between) --


def workspace_with(tmp_path: Path, code: str) -> Workspace:
    workspace = Workspace("WS", [])
    step = {"name": "S", "command": python(code), "cwd": str(tmp_path)}
    workspace.define_process(parse_process({"id": "p", "steps": [step]}))
    return workspace


SLEEPER = "import os, time; open(f'pid.{os.getpid()}', 'w'); time.sleep(60)"


def alive(tmp_path: Path) -> list[int]:
    pids = [int(p.name.split(".")[1]) for p in tmp_path.glob("pid.*")]
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def settled(workspace: Workspace) -> list[BaseException | None]:
    """The exceptions of the commands' tasks, once they have all ended (10 s at most)."""
    tasks = list(workspace.launcher._tasks)  # type: ignore[attr-defined]
    _done, pending = await asyncio.wait(tasks, timeout=10) if tasks else (set(), set())
    assert not pending, "a command outlived what should have ended it"
    return [task.exception() for task in tasks]


def test_a_reset_while_a_command_is_being_created_ends_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        workspace = workspace_with(tmp_path, SLEEPER)
        try:
            workspace.start_run("p", {"type": "with_payloads", "payloads": [{}]})
            workspace.reset()  # before the command's process exists
            assert await settled(workspace) == [None]
        finally:
            await workspace.close_commands()

    asyncio.run(scenario())
    assert alive(tmp_path) == []


def test_a_stop_while_a_command_is_being_created_terminates_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        workspace = workspace_with(tmp_path, SLEEPER)
        try:
            run_id = workspace.start_run("p", {"type": "with_payloads", "payloads": [{}]})["id"]
            body = {
                "set_remaining_work_items_as_done": False,
                "terminate_ongoing_activity_runs": True,
            }
            workspace.stop_run(run_id, body)
            assert await settled(workspace) == [None]
            assert workspace.get_run(run_id)["state"] == "unresolved"
        finally:
            await workspace.close_commands()

    asyncio.run(scenario())


def test_a_reset_after_a_command_created_outputs_raises_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        workspace = workspace_with(tmp_path, SLEEPER)
        try:
            run_id = workspace.start_run("p", {"type": "with_payloads", "payloads": [{}]})["id"]
            run = workspace.runs[run_id]
            assert run.live is not None
            step_run = run.live.step_runs[0]
            deadline = time.monotonic() + 10
            while not alive(tmp_path) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            workspace.worker_output(run, step_run, step_run.inputs[0], {"payload": 1})
            workspace.reset()
            assert await settled(workspace) == [None]
        finally:
            await workspace.close_commands()

    asyncio.run(scenario())
    assert alive(tmp_path) == []


# --- what a command leaves behind --------------------------------------------------------

ESCAPES = """
import os, sys, time
if os.fork() == 0:
    os.setsid()  # out of the command's process group, as a daemon or a detached browser
    open(f'escaped.{os.getpid()}', 'w').close()
    time.sleep(60)
    os._exit(0)
while not [n for n in os.listdir('.') if n.startswith('escaped.')]:
    time.sleep(0.01)
"""


def test_a_process_that_left_the_commands_group_ends_with_its_step_run(
    live: Live, tmp_path: Path
) -> None:
    step = {"name": "S", "command": python(ESCAPES), "cwd": str(tmp_path)}
    live.define("p", steps=[step])
    run_id = live.start("p", {"type": "with_payloads", "payloads": [{}]})
    assert live.ended(run_id) == "completed"
    [marker] = tmp_path.glob("escaped.*")
    pid = int(marker.name.split(".")[1])
    until(lambda: gone(pid), "the escaped process to end")


LEAVES_A_SLEEPER = """
import os, subprocess, sys
sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
open(f'sleeper.{sleeper.pid}', 'w').close()  # it holds the command's stdout and stderr
"""


def test_a_step_run_ends_when_its_command_exits_and_kills_what_it_left(
    live: Live, tmp_path: Path
) -> None:
    step = {"name": "S", "command": python(LEAVES_A_SLEEPER), "cwd": str(tmp_path)}
    live.define("p", steps=[step])
    run_id = live.start("p", {"type": "with_payloads", "payloads": [{}]})
    assert live.ended(run_id) == "completed"
    [marker] = tmp_path.glob("sleeper.*")
    until(lambda: gone(int(marker.name.split(".")[1])), "the process it left to end")

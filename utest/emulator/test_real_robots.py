"""Steps that run real commands, and the worker-side API their commands call: a real
emulator, real child processes (robots/hold.py, which the test drives), real HTTP."""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import KEY, READY, WS, Emulator, launch, stop

HOLD = str(Path(__file__).with_name("robots") / "hold.py")
WAIT = 20.0  # seconds: the longest any event may take on a loaded machine


@pytest.fixture(scope="module")
def commands_emulator() -> Iterator[str]:
    process, line = launch(
        "--port", "0", "--workspace-id", WS, "--api-key", KEY, "--allow-commands",
        "--workspace", "other:OTHER_KEY",
        env={**__import__("os").environ, "OTHER_KEY": "other-key-secret"},
    )  # fmt: skip
    assert line.startswith(READY), line + (process.stderr.read() if process.stderr else "")
    yield line[len(READY) :].strip()
    stop(process)


@pytest.fixture
def live(commands_emulator: str, tmp_path: Path) -> Iterator[Live]:
    emulator = Live(commands_emulator, tmp_path)
    emulator.admin("POST", "/reset", json={"processes": True})
    yield emulator
    emulator.admin("POST", "/reset", json={"processes": True})  # ends its commands
    emulator.http.close()


def until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}.")


class Live(Emulator):
    def __init__(self, base_url: str, hold_dir: Path) -> None:
        super().__init__(base_url)
        self.hold_dir = hold_dir

    def define_hold(self, process_id: str = "hold", steps: int = 1, **step: Any) -> None:
        env = {"HOLD_DIR": str(self.hold_dir), **step.pop("env", {})}
        definition = [
            {"name": f"Step {i + 1}", "command": [sys.executable, HOLD], "env": env, **step}
            for i in range(steps)
        ]
        self.define(process_id, steps=definition)

    def held(self, count: int = 1) -> list[dict[str, str]]:
        """The environments of the first `count` commands that are running (in start order)."""

        def found() -> list[dict[str, str]] | None:
            files = sorted(self.hold_dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
            if len(files) < count:
                return None
            return [json.loads(p.read_text(encoding="utf-8")) for p in files[:count]]

        return until(found, f"{count} command(s) to start")

    def release(self, env: dict[str, str], code: int = 0) -> None:
        # Whole or not at all: the command reads the file as soon as it exists, and an
        # empty one (written but not yet filled) would read as exit code 0.
        temporary = self.hold_dir / f"{env['RC_ACTIVITY_RUN_ID']}.exit-tmp"
        temporary.write_text(str(code))
        temporary.replace(self.hold_dir / f"{env['RC_ACTIVITY_RUN_ID']}.exit")

    def run_state(self, run_id: str) -> str:
        return str(self.api("GET", f"/process-runs/{run_id}").json()["state"])

    def ended(self, run_id: str) -> str:
        return until(
            lambda: (s := self.run_state(run_id)) in ("completed", "unresolved") and s,
            f"run {run_id} to end",
        )

    def items(self, run_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", "/work-items", params={"process_run_id": run_id, "limit": 100})
        return list(answer.json()["data"])

    def step_runs(self, run_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", "/step-runs", params={"process_run_id": run_id, "limit": 100})
        return list(answer.json()["data"])

    def console(self, step_run_id: str) -> list[str]:
        answer = self.api("GET", f"/step-runs/{step_run_id}/console-messages?limit=100")
        return [m["message"] for m in answer.json()["data"]]


class Worker:
    """The worker-side API as a step run's command sees it (its environment)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {env['RC_API_WORKITEM_TOKEN']}"
        ws = env["RC_WORKSPACE_ID"]
        self.items_url = f"{env['RC_API_WORKITEM_HOST']}/json-v1/workspaces/{ws}/workitems"
        self.process_url = (
            f"{env['RC_API_PROCESS_HOST']}/process-v1/workspaces/{ws}/processes/"
            f"{env['RC_PROCESS_ID']}"
        )
        self.robot_run_url = (
            f"{self.process_url}/runs/{env['RC_PROCESS_RUN_ID']}/robotRuns/"
            f"{env['RC_ACTIVITY_RUN_ID']}"
        )

    def reserve(self) -> requests.Response:
        return self.http.post(f"{self.robot_run_url}/reserve-next-work-item", timeout=10)

    def release(self, item_id: str, state: str, **exception: str) -> requests.Response:
        body: dict[str, Any] = {"workItemId": item_id, "state": state}
        if exception:
            body["exception"] = exception
        return self.http.post(f"{self.robot_run_url}/release-work-item", json=body, timeout=10)

    def output(self, parent_id: str, payload: Any) -> requests.Response:
        url = f"{self.process_url}/work-items/{parent_id}/output"
        return self.http.post(url, json={"payload": payload}, timeout=10)

    def item(self, method: str, item_id: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.items_url}/{item_id}/{path}", timeout=10, **kwargs)


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# --- who may define commands -------------------------------------------------------------------


def test_a_command_step_is_refused_without_allow_commands(emu: Emulator) -> None:
    response = emu.http.put(
        f"{emu.root}/_emulator/processes/p",
        json={"steps": [{"name": "Run", "command": ["echo", "hi"]}]},
        timeout=10,
    )
    assert error(response) == (
        403,
        "forbidden",
        "Process 'p' has steps with a 'command': the emulator runs commands defined through "
        "the admin API only when started with --allow-commands (Start Emulator  "
        "allow_commands=True).",
    )
    assert "p" not in [p["id"] for p in emu.admin("GET", "/processes")["data"]]


def test_steps_either_all_run_commands_or_none(live: Live) -> None:
    response = live.http.put(
        f"{live.root}/_emulator/processes/p",
        json={"steps": [{"name": "A", "command": ["true"]}, {"name": "B"}]},
        timeout=10,
    )
    assert error(response) == (
        400,
        "bad_request",
        "Process 'p': either every step has a 'command' or none has.",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "command",
            [],
            "'command' must be a non-empty list of strings: the program and its arguments "
            "(no shell).",
        ),
        ("command", "echo hi", None),
        ("parallel", 0, "'parallel' must be an integer from 1 to 100."),
        ("timeout", 0, "'timeout' must be a number of seconds > 0, or null."),
        (
            "env",
            {"A": 1},
            "'env' must be an object of environment variable names and string values.",
        ),
        ("cwd", "", "'cwd' must be a non-empty string."),
    ],
)
def test_bad_step_fields_are_refused(live: Live, field: str, value: Any, message: str) -> None:
    step = {"name": "S", "command": ["true"], field: value}
    response = live.http.put(
        f"{live.root}/_emulator/processes/p", json={"steps": [step]}, timeout=10
    )
    expected = message or (
        "'command' must be a non-empty list of strings: the program and its arguments (no shell)."
    )
    assert error(response) == (400, "bad_request", f"Process 'p', step 'S': {expected}")


# --- the environment ---------------------------------------------------------------------------


def test_a_step_run_gets_the_documented_environment(live: Live) -> None:
    live.define_hold(env={"EXTRA": "given"})
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{"n": 1}, {"n": 2}]})
    env = live.held()[0]
    step_run = live.step_runs(run_id)[0]
    first = live.items(run_id)[0]
    host = live.root
    assert {k: env[k] for k in env if k.startswith("RC_") and "TOKEN" not in k} == {
        "RC_WORKSPACE_ID": WS,
        "RC_PROCESS_ID": "hold",
        "RC_PROCESS_RUN_ID": run_id,
        "RC_ACTIVITY_RUN_ID": step_run["id"],
        "RC_WORKITEM_ID": first["id"],
        "RC_API_WORKITEM_HOST": host,
        "RC_API_PROCESS_HOST": host,
        "RC_API_URL_V1": f"{host}/api/v1",
    }
    assert env["RC_API_WORKITEM_TOKEN"] == env["RC_API_PROCESS_TOKEN"]
    assert len(env["RC_API_WORKITEM_TOKEN"]) >= 40
    assert env["EXTRA"] == "given"
    assert Path(env["ROBOT_ARTIFACTS"]).is_dir()
    # The emulator's credentials never reach a command.
    assert KEY not in env.values() and "other-key-secret" not in env.values()
    assert "OTHER_KEY" not in env
    assert first["state"] == "in_progress"  # RC_WORKITEM_ID is reserved already
    assert live.items(run_id)[1]["state"] == "pending"
    assert step_run["state"] == "in_progress"
    assert live.run_state(run_id) == "in_progress"


def test_console_messages_come_while_the_command_runs(live: Live) -> None:
    live.define_hold(env={"HOLD_ARTIFACTS": json.dumps({"notes/a.txt": "A", "b.txt": "B"})})
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    env = live.held()[0]
    step_run_id = env["RC_ACTIVITY_RUN_ID"]
    lines = until(
        lambda: len(live.console(step_run_id)) == 2 and live.console(step_run_id), "lines"
    )
    assert sorted(lines) == sorted([f"holding {env['RC_WORKITEM_ID']}", "a line on standard error"])
    answer = live.api("GET", f"/step-runs/{step_run_id}/artifacts").json()
    assert answer["data"] == []  # none until it has ended
    live.release(env)
    assert live.ended(run_id) == "completed"
    assert live.console(step_run_id)[-1] == "bye"
    artifacts = live.api("GET", f"/step-runs/{step_run_id}/artifacts").json()["data"]
    assert [(a["name"], a["size"]) for a in artifacts] == [("b.txt", 1), ("notes/a.txt", 1)]
    url = live.api("GET", f"/step-runs/{step_run_id}/artifacts/{artifacts[1]['id']}").json()["url"]
    assert requests.get(url, timeout=10).content == b"A"


# --- the worker-side API -----------------------------------------------------------------------


def test_a_command_reserves_releases_and_creates_outputs_with_files(live: Live) -> None:
    live.define_hold()
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{"n": 1}, {"n": 2}]})
    env = live.held()[0]
    worker = Worker(env)
    first, second = (item["id"] for item in live.items(run_id))
    assert worker.item("GET", first, "data").json() == {"n": 1}
    assert worker.reserve().json() == {"workItemId": second}
    assert worker.reserve().json() == {"workItemId": None}
    assert worker.release(first, "COMPLETED").json() == {"workItemId": first, "state": "COMPLETED"}
    assert error(worker.release(first, "FAILED")) == (
        409,
        "conflict",
        f"Work item '{first}' was released already by step run '{env['RC_ACTIVITY_RUN_ID']}'.",
    )
    failed = worker.release(second, "FAILED", type="BUSINESS", code="NO_CUSTOMER", message="M")
    assert failed.status_code == 200
    output = worker.output(first, {"receipt": 1}).json()["id"]
    assert worker.item("PUT", output, "data", json={"receipt": 1, "ok": True}).status_code == 200
    upload = worker.item("POST", output, "files", json={"fileName": "r.txt", "fileSize": 5}).json()
    assert sorted(upload) == ["fields", "url"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("r.txt", b"hello")}, timeout=10
    )
    assert posted.status_code == 204
    files = worker.item("GET", output, "files").json()
    assert [(f["fileName"], f["fileSize"]) for f in files] == [("r.txt", 5)]
    url = worker.item("GET", output, f"files/{files[0]['fileId']}").json()["url"]
    assert requests.get(url, timeout=10).content == b"hello"
    # An output without a payload: 404, which the libraries read as "no payload".
    empty = worker.output(first, None).json()["id"]
    assert error(worker.item("GET", empty, "data")) == (
        404,
        "not_found",
        f"Work item '{empty}' has no payload.",
    )
    gone = worker.item("POST", empty, "files", json={"fileName": "x", "fileSize": 0}).json()
    requests.post(gone["url"], data=gone["fields"], files={"file": ("x", b"")}, timeout=10)
    file_id = worker.item("GET", empty, "files").json()[0]["fileId"]
    assert worker.item("DELETE", empty, f"files/{file_id}").status_code == 200
    assert worker.item("GET", empty, "files").json() == []
    live.release(env)
    assert live.ended(run_id) == "unresolved"
    states = {i["id"]: (i["state"], i["exception"]) for i in live.items(run_id)}
    assert states == {
        first: ("done", None),
        second: ("failed", {"type": "business", "code": "NO_CUSTOMER", "message": "M"}),
    }
    outputs = live.api("GET", "/outputs", params={"process_run_id": run_id}).json()["data"]
    assert [o["payload"] for o in outputs] == [{"receipt": 1, "ok": True}, None]
    assert [f["name"] for f in outputs[0]["files"]] == ["r.txt"]
    assert requests.get(outputs[0]["files"][0]["download"]["url"], timeout=10).content == b"hello"
    [step_run] = live.step_runs(run_id)
    assert (step_run["state"], step_run["error"]) == ("completed", None)


def test_a_step_run_token_opens_its_own_calls_only(live: Live) -> None:
    live.define_hold()
    run_a = live.start("hold", {"type": "with_payloads", "payloads": [{"a": 1}]})
    run_b = live.start("hold", {"type": "with_payloads", "payloads": [{"b": 1}]})
    env_a, env_b = sorted(live.held(2), key=lambda e: e["RC_PROCESS_RUN_ID"] != run_a)
    worker = Worker(env_a)
    item_b = env_b["RC_WORKITEM_ID"]
    assert error(worker.item("GET", item_b, "data")) == (
        403,
        "forbidden",
        f"Work item '{item_b}' is not an input or output of step run "
        f"'{env_a['RC_ACTIVITY_RUN_ID']}': its token opens only those.",
    )
    assert error(worker.release(item_b, "COMPLETED"))[0] == 403
    assert error(worker.output(item_b, {}))[0] == 403
    other = Worker({**env_a, "RC_ACTIVITY_RUN_ID": env_b["RC_ACTIVITY_RUN_ID"]})
    assert error(other.reserve()) == (
        403,
        "forbidden",
        f"This token is of step run '{env_a['RC_ACTIVITY_RUN_ID']}' of process run "
        f"'{run_a}' (process 'hold'): it opens no other step run.",
    )
    elsewhere = Worker({**env_a, "RC_WORKSPACE_ID": "other"})
    assert error(elsewhere.item("GET", env_a["RC_WORKITEM_ID"], "data")) == (
        403,
        "forbidden",
        "No access to workspace 'other' with this step run's token.",
    )
    # Never a credential of /api/v1, nor the other way round.
    token = env_a["RC_API_WORKITEM_TOKEN"]
    v1 = requests.get(
        f"{live.ws_url}/process-runs", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert error(v1) == (
        403,
        "forbidden",
        "The API key or token in the Authorization header is not valid.",
    )
    keyed = requests.post(
        f"{worker.robot_run_url}/reserve-next-work-item",
        headers={"Authorization": f"RC-WSKEY {KEY}"},
        timeout=10,
    )
    assert error(keyed) == (
        401,
        "unauthorized",
        "A worker-side call needs 'Authorization: Bearer <token>' with its step run's token "
        "(RC_API_WORKITEM_TOKEN or RC_API_PROCESS_TOKEN).",
    )
    live.release(env_a)
    live.ended(run_a)
    # The token ends with its step run.
    assert error(worker.item("GET", env_a["RC_WORKITEM_ID"], "data")) == (
        401,
        "unauthorized",
        "The token is not the token of a step run in progress.",
    )
    live.release(env_b)
    live.ended(run_b)
    logged = live.admin("GET", "/requests")["data"]
    assert token not in json.dumps(logged)


def test_fault_rules_and_the_request_log_cover_worker_paths(live: Live) -> None:
    live.define_hold()
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    env = live.held()[0]
    worker = Worker(env)
    live.fault(status=503, path="/reserve-next-work-item$", times=1)
    assert error(worker.reserve())[:2] == (503, "service_unavailable")
    assert worker.reserve().json() == {"workItemId": None}
    entries = [e for e in live.admin("GET", "/requests")["data"] if "robotRuns" in e["path"]]
    assert [(e["method"], e["status"], e["headers"]["Authorization"]) for e in entries] == [
        ("POST", 503, "Bearer ***"),
        ("POST", 200, "Bearer ***"),
    ]
    live.release(env)
    assert live.ended(run_id) == "completed"


# --- how a step run ends -----------------------------------------------------------------------


def test_items_a_command_never_released_follow_its_exit_code(live: Live) -> None:
    live.define_hold()
    ok_run = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    live.release(live.held()[0], 0)
    assert live.ended(ok_run) == "completed"
    for path in live.hold_dir.iterdir():
        path.unlink()
    bad_run = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    env = live.held()[0]
    live.release(env, 3)
    assert live.ended(bad_run) == "unresolved"
    [item] = live.items(bad_run)
    assert item["exception"] == {
        "type": "application",
        "code": "ROBOT_FAILED",
        "message": f"The command of step run {env['RC_ACTIVITY_RUN_ID']} exited with code 3 "
        "before it released this work item.",
    }
    [step_run] = live.step_runs(bad_run)
    assert (step_run["state"], step_run["error"]) == ("failed", {"code": "ROBOT_FAILED"})


def test_a_command_that_cannot_start_fails_its_step_run(live: Live) -> None:
    live.define("missing", steps=[{"name": "S", "command": ["/nonexistent/robot"]}])
    run_id = live.start("missing", {"type": "with_payloads", "payloads": [{}]})
    assert live.ended(run_id) == "unresolved"
    [step_run] = live.step_runs(run_id)
    assert (step_run["state"], step_run["error"]) == ("failed", {"code": "COMMAND_NOT_STARTED"})
    [item] = live.items(run_id)
    assert item["exception"]["message"] == (
        f"The command of step run {step_run['id']} could not be started: "
        "No such file or directory: /nonexistent/robot."
    )


def test_a_command_past_its_timeout_is_terminated(live: Live) -> None:
    live.define_hold(timeout=0.5)
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    assert live.ended(run_id) == "unresolved"
    [step_run] = live.step_runs(run_id)
    assert (step_run["state"], step_run["error"]) == ("failed", {"code": "STEP_RUN_TIMEOUT"})
    events = live.api("GET", f"/step-runs/{step_run['id']}/events").json()["data"]
    assert [(e["event_type"], e["timestamp"]) for e in events][1:] == [
        ("in_progress", step_run["started_at"]),
        ("failed", step_run["ended_at"]),
    ]
    assert events[0]["event_type"] == "new" and events[0]["timestamp"] <= step_run["started_at"]
    [item] = live.items(run_id)
    assert item["exception"] == {
        "type": "application",
        "code": "STEP_RUN_TIMEOUT",
        "message": f"The command of step run {step_run['id']} was terminated: it ran longer "
        "than the step's timeout.",
    }


def test_stop_with_terminate_ends_the_commands(live: Live) -> None:
    live.define_hold()
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}, {}]})
    live.held()
    body = {
        "set_remaining_work_items_as_done": False,
        "terminate_ongoing_activity_runs": True,
        "reason": "enough",
    }
    assert live.api("POST", f"/process-runs/{run_id}/stop", json=body).json() == {"accepted": True}
    assert live.ended(run_id) == "unresolved"
    stopped = {
        "type": "orchestrator",
        "code": "PROCESS_RUN_STOPPED",
        "message": "The process run was stopped: enough",
    }
    assert [(i["state"], i["exception"]) for i in live.items(run_id)] == [("failed", stopped)] * 2
    [step_run] = live.step_runs(run_id)
    assert (step_run["state"], step_run["error"]) == ("failed", {"code": "PROCESS_RUN_STOPPED"})


def test_a_graceful_stop_lets_the_item_in_hand_finish(live: Live) -> None:
    live.define_hold()
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}, {}]})
    env = live.held()[0]
    body = {"set_remaining_work_items_as_done": True, "terminate_ongoing_activity_runs": False}
    live.api("POST", f"/process-runs/{run_id}/stop", json=body)
    assert live.run_state(run_id) == "stopping"
    assert Worker(env).reserve().json() == {"workItemId": None}  # no further items
    assert (
        Worker(env).release(env["RC_WORKITEM_ID"], "FAILED", type="APPLICATION").status_code == 200
    )
    live.release(env, 0)
    assert live.ended(run_id) == "unresolved"
    states = [(i["state"], (i["exception"] or {}).get("type")) for i in live.items(run_id)]
    assert states == [("failed", "application"), ("done", None)]
    [step_run] = live.step_runs(run_id)
    assert step_run["state"] == "completed"


def test_parallel_step_runs_share_the_step_queue(live: Live) -> None:
    live.define_hold(parallel=3)
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}, {}, {}, {}]})
    envs = live.held(3)
    assert len({e["RC_ACTIVITY_RUN_ID"] for e in envs}) == 3
    assert [s["state"] for s in live.step_runs(run_id)] == ["in_progress"] * 3
    for env in envs:
        live.release(env)
    fourth = until(lambda: len(live.held(4)) == 4 and live.held(4)[3], "the fourth step run")
    live.release(fourth)
    assert live.ended(run_id) == "completed"
    assert len(live.step_runs(run_id)) == 4


def test_outputs_of_one_step_are_the_inputs_of_the_next(live: Live) -> None:
    live.define_hold(steps=2)
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{"n": 1}]})
    first = live.held()[0]
    output = Worker(first).output(first["RC_WORKITEM_ID"], {"n": 2}).json()["id"]
    Worker(first).release(first["RC_WORKITEM_ID"], "COMPLETED")
    live.release(first)
    second = live.held(2)[1]
    assert second["RC_WORKITEM_ID"] == output
    assert Worker(second).item("GET", output, "data").json() == {"n": 2}
    last = Worker(second).output(output, {"n": 3}).json()["id"]
    live.release(second)
    assert live.ended(run_id) == "completed"
    step_runs = live.step_runs(run_id)
    assert [s["step"]["name"] for s in step_runs] == ["Step 1", "Step 2"]
    outputs = live.api("GET", "/outputs", params={"process_run_id": run_id}).json()["data"]
    assert [(o["id"], o["payload"]) for o in outputs] == [(last, {"n": 3})]
    items = live.items(run_id)
    assert [(i["state"], i["step"], i["step_run"]) for i in items] == [
        ("done", {"id": s["step"]["id"]}, {"id": s["id"]}) for s in step_runs
    ]
    assert items[1]["id"] == output


def test_a_retried_item_runs_in_a_new_step_run_of_its_step(live: Live) -> None:
    live.define_hold()
    run_id = live.start("hold", {"type": "with_payloads", "payloads": [{}]})
    env = live.held()[0]
    live.release(env, 1)
    assert live.ended(run_id) == "unresolved"
    [failed_run] = live.step_runs(run_id)
    item_id = env["RC_WORKITEM_ID"]
    answer = live.api(
        "POST", "/work-items/batch", json={"batch_operation": "retry", "work_item_ids": [item_id]}
    )
    assert answer.json() == {"accepted": True}
    retried = live.held(2)[1]
    assert retried["RC_WORKITEM_ID"] == item_id
    assert retried["RC_ACTIVITY_RUN_ID"] != env["RC_ACTIVITY_RUN_ID"]
    assert live.run_state(run_id) == "in_progress"
    live.release(retried, 0)
    assert live.ended(run_id) == "completed"
    old, new = live.step_runs(run_id)
    assert old == failed_run  # the ended step run is not reopened
    assert new["state"] == "completed"
    assert [(i["state"], i["step_run"]["id"]) for i in live.items(run_id)] == [("done", new["id"])]


def test_the_admin_view_of_a_command_step_never_shows_env_values(live: Live) -> None:
    step = {"name": "S", "command": ["robot", "x.robot"], "cwd": "/tmp", "env": {"K": "v"}}
    defined = live.define("p", steps=[{**step, "parallel": 2, "timeout": 5}])
    assert defined["steps"][0] == {
        "name": "S",
        "id": None,
        "fails": False,
        "error_code": None,
        "console": None,
        "artifacts": None,
        "command": ["robot", "x.robot"],
        "cwd": "/tmp",
        "env": {"K": "***"},
        "parallel": 2,
        "timeout": 5.0,
    }


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie that nobody reaps counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True
    return status == "Z"


def test_no_command_outlives_the_emulator(tmp_path: Path) -> None:
    process, line = launch(
        "--port", "0", "--workspace-id", WS, "--api-key", KEY, "--allow-commands"
    )
    assert line.startswith(READY)
    emulator = Live(line[len(READY) :].strip(), tmp_path)
    emulator.define_hold(env={"HOLD_GRANDCHILD": "1"})
    emulator.start("hold", {"type": "with_payloads", "payloads": [{}]})
    env = emulator.held()[0]
    pids = [int(env["HOLD_PID"]), int(env["HOLD_GRANDCHILD_PID"])]
    assert not any(gone(pid) for pid in pids)
    assert stop(process) == 0
    assert until(lambda: all(gone(pid) for pid in pids), "the command and its grandchild to end")


def test_a_reset_ends_the_commands_and_starts_no_more(live: Live) -> None:
    live.define_hold(env={"HOLD_GRANDCHILD": "1"})
    live.start("hold", {"type": "with_payloads", "payloads": [{}, {}]})
    env = live.held()[0]
    pids = [int(env["HOLD_PID"]), int(env["HOLD_GRANDCHILD_PID"])]
    live.admin("POST", "/reset", json={"processes": True})
    until(lambda: all(gone(pid) for pid in pids), "the command and its grandchild to end")
    time.sleep(0.5)  # a step run for the second item would have started by now
    assert len(list(live.hold_dir.glob("*.json"))) == 1


def test_a_second_workspace_may_define_commands_too(live: Live) -> None:
    other = Emulator(live.base_url, workspace="other", key="other-key-secret")
    defined = other.define("p", steps=[{"name": "S", "command": ["true"]}])
    assert defined["steps"][0]["command"] == ["true"]
    other.http.close()


@pytest.mark.parametrize(
    ("argument", "expanded"),
    [
        ("%{ROBOT_ARTIFACTS}", "/a"),
        ("--outputdir=%{ROBOT_ARTIFACTS}/x", "--outputdir=/a/x"),
        ("%{UNSET}", "%{UNSET}"),
        ("${ROBOT_ARTIFACTS} $ROBOT_ARTIFACTS", "${ROBOT_ARTIFACTS} $ROBOT_ARTIFACTS"),
    ],
)
def test_percent_placeholders_are_the_commands_environment(argument: str, expanded: str) -> None:
    from ProcessRunLibrary.emulator.runner import expand

    assert expand(argument, {"ROBOT_ARTIFACTS": "/a"}) == expanded


def test_a_chatty_command_keeps_a_bounded_console(live: Live) -> None:
    chatty = [sys.executable, "-c", "print('x\\n' * 100_005, end='')"]
    live.define("chatty", steps=[{"name": "S", "command": chatty}])
    run_id = live.start("chatty", {"type": "with_payloads", "payloads": [{}]})
    assert live.ended(run_id) == "completed"
    [step_run] = live.step_runs(run_id)
    # Straight to the last page: the cursor is the position of the page's first line.
    cursor = base64.urlsafe_b64encode(b"console:99998").decode().rstrip("=")
    path = f"/step-runs/{step_run['id']}/console-messages?limit=100&cursor={cursor}"
    page = live.api("GET", path).json()
    assert (page["has_more"], [m["message"] for m in page["data"]]) == (
        False,
        ["x", "x", "(The emulator keeps the first 100000 lines of a step run.)"],
    )

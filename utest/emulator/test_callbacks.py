"""Callbacks: the emulator POSTs a run's events to the callback URL of its start request.

In process: the emulator and a small aiohttp receiver run on aiohttp's test servers in one
event loop; the clock runs 20 times faster than real time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from conftest import KEY, WS
from ProcessRunLibrary.emulator.clock import Clock
from ProcessRunLibrary.emulator.processes import parse_process
from ProcessRunLibrary.emulator.server.app import Context, create_app
from ProcessRunLibrary.emulator.state import Workspace

SECRET = "cb-s3cr3t-value"
AUTH = {"Authorization": f"RC-WSKEY {KEY}"}
ALL = ["started", "completed", "unresolved"]
STOP = {"set_remaining_work_items_as_done": False, "terminate_ongoing_activity_runs": False}
PROCESSES = [
    {"id": "quick", "new_seconds": 2, "run_seconds": 4},  # 0.1 s + 0.2 s real
    {"id": "steady", "new_seconds": 2, "run_seconds": 40},  # in progress for 2 s real
    {"id": "failing", "new_seconds": 2, "run_seconds": 4, "outcome": "unresolved"},
    {"id": "forever", "new_seconds": 2, "run_seconds": None},
    {"id": "waiting", "new_seconds": 100_000},
]


class Receiver:
    """Records every POST: (path, headers, raw body); answers `status` after `delay`, and
    not before `gate` is set when there is one."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.gate: asyncio.Event | None = None
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path, dict(request.headers), await request.read()))
        await asyncio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        return web.Response(status=self.status)

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _, _, body in self.received]


Scenario = Callable[[TestClient, str, Context], Awaitable[None]]


def run(scenario: Scenario, receiver: Receiver | None = None, timeout: float = 5.0) -> Context:
    """Run `scenario(emulator client, receiver base URL, context)`."""
    workspace = Workspace(
        WS, [parse_process(p) for p in PROCESSES], clock=Clock(20.0), stopping_seconds=2
    )
    ctx = Context(workspace=workspace, api_key=KEY)
    ctx.callbacks.timeout = timeout

    async def main() -> None:
        async with (
            TestServer((receiver or Receiver()).app) as hook_server,
            TestClient(TestServer(create_app(ctx))) as client,
        ):
            await scenario(client, str(hook_server.make_url("/hook")), ctx)

    asyncio.run(main())
    return ctx


async def start(
    client: TestClient, process: str, url: str, events: list[str] = ALL, **body: Any
) -> str:
    callback = {"url": url, "secret": SECRET, "callback_events": events}
    response = await client.post(
        f"/api/v1/workspaces/{WS}/processes/{process}/process-runs",
        json={**body, "callback": callback},
        headers=AUTH,
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["id"])


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_started_and_completed_are_posted_signed_with_the_secret() -> None:
    receiver = Receiver()
    run_ids = []

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        # A run in progress for 2 s: `started` is built while it is in progress even when
        # the machine is loaded.
        run_ids.append(await start(client, "steady", url))
        deliveries = ctx.workspace.runs[run_ids[0]].deliveries
        await until(lambda: len(deliveries) == 2 and deliveries[1]["status"] is not None, 10)
        await asyncio.sleep(0.1)  # nothing more comes

    ctx = run(scenario, receiver)
    assert receiver.events() == ["process_run.started", "process_run.completed"]
    for (path, headers, raw), state in zip(
        receiver.received, ["in_progress", "completed"], strict=True
    ):
        assert path == "/hook"
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"].startswith("processrun-emulator/")
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert headers["X-RC-Signature"] == expected
        assert SECRET not in raw.decode() and SECRET not in json.dumps(headers)
        body = json.loads(raw)
        assert set(body) == {"id", "webhookEventTimestamp", "event", "payload"}
        assert body["payload"]["workspace_id"] == WS
        process_run = body["payload"]["process_run"]
        assert (process_run["id"], process_run["state"]) == (run_ids[0], state)
        assert process_run["process"] == {"id": "steady", "name": "steady"}
    first, second = (json.loads(raw) for _, _, raw in receiver.received)
    assert first["id"] != second["id"]
    assert first["webhookEventTimestamp"] <= second["webhookEventTimestamp"]
    assert second["payload"]["process_run"]["duration"] == pytest.approx(40, abs=0.5)
    [admin_run] = ctx.workspace.runs_json()
    assert [(d["event"], d["status"], d["error"]) for d in admin_run["callback_deliveries"]] == [
        ("started", 200, None),
        ("completed", 200, None),
    ]


def test_only_the_selected_events_are_posted() -> None:
    receiver = Receiver()

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        await start(client, "failing", url, ["unresolved"])
        await start(client, "quick", url, ["unresolved", "started"])
        await until(lambda: len(receiver.received) == 2)
        await asyncio.sleep(0.3)  # both runs have ended: nothing more comes

    run(scenario, receiver)
    assert sorted(receiver.events()) == ["process_run.started", "process_run.unresolved"]


@pytest.mark.parametrize("delay", [0.0, 0.5], ids=["answered at once", "stopped while posting"])
def test_a_stopped_run_posts_how_it_ended(delay: float) -> None:
    # With a delay, the stop comes while `started` is still being posted: a run that never
    # ends by itself must still deliver how the stop ended it (it used to wait forever).
    receiver = Receiver(delay=delay)
    ids = {}

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        ids["running"] = await start(client, "forever", url)
        await until(lambda: len(receiver.received) == 1)  # started
        ids["new"] = await start(client, "waiting", url)
        for run_id, body in (
            (ids["running"], STOP),
            (ids["new"], {**STOP, "set_remaining_work_items_as_done": True}),
        ):
            response = await client.post(
                f"/api/v1/workspaces/{WS}/process-runs/{run_id}/stop", json=body, headers=AUTH
            )
            assert (await response.json()) == {"accepted": True}
        await until(lambda: len(receiver.received) == 3)  # stopping lasts 0.1 s real
        await asyncio.sleep(0.1)

    run(scenario, receiver)
    events: dict[str, list[str]] = {}
    for _, _, raw in receiver.received:
        body = json.loads(raw)
        events.setdefault(body["payload"]["process_run"]["id"], []).append(body["event"])
    assert events == {
        ids["running"]: ["process_run.started", "process_run.unresolved"],
        # A run stopped while new never started: no `started` event for it.
        ids["new"]: ["process_run.completed"],
    }


def test_a_slow_receiver_never_delays_the_api() -> None:
    receiver = Receiver()
    answered = []

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        receiver.gate = asyncio.Event()  # the receiver answers only once the API has
        run_id = await start(client, "quick", url, ["started", "completed"])
        await until(lambda: len(receiver.received) == 1)  # the receiver is sitting on it
        path = f"/api/v1/workspaces/{WS}/process-runs/{run_id}"
        response = await asyncio.wait_for(client.get(path, headers=AUTH), 5)
        answered.append(response.status)
        answered.append(bool(await asyncio.wait_for(start(client, "quick", url, ["completed"]), 5)))
        answered.append(receiver.gate.is_set())
        receiver.gate.set()

    run(scenario, receiver)
    assert answered == [200, True, False]  # both answered while the receiver held on


def test_an_unreachable_url_is_one_line_on_stderr_without_the_secret(
    capsys: pytest.CaptureFixture[str], unused_port: int
) -> None:
    run_ids = []

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        hook = f"http://user:pw@127.0.0.1:{unused_port}/hook?token=query-secret"
        run_id = await start(client, "quick", hook, ["started"])
        run_ids.append(run_id)
        run = ctx.workspace.runs[run_id]
        await until(lambda: bool(run.deliveries) and run.deliveries[0]["error"] is not None)
        response = await client.get(f"/api/v1/workspaces/{WS}/process-runs/{run_id}", headers=AUTH)
        assert response.status == 200  # the API does not care

    run(scenario)
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"processrun-emulator: callback started of process run {run_ids[0]} to "
        f"http://127.0.0.1:{unused_port}/hook failed: cannot connect to 127.0.0.1:{unused_port}"
    ]
    for secret in (SECRET, "query-secret", "pw"):
        assert secret not in err


@pytest.mark.parametrize(
    ("receiver", "error", "timeout"),
    [
        (Receiver(status=500), "answered 500", 5.0),
        (Receiver(delay=2.0), "no answer within 0.3 s", 0.3),
    ],
    ids=["500", "timeout"],
)
def test_a_failing_receiver_is_logged_and_recorded(
    capsys: pytest.CaptureFixture[str], receiver: Receiver, error: str, timeout: float
) -> None:
    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        run_id = await start(client, "quick", url, ["started"])
        run = ctx.workspace.runs[run_id]
        await until(lambda: bool(run.deliveries) and run.deliveries[0]["error"] is not None)

    ctx = run(scenario, receiver, timeout=timeout)
    [delivery] = ctx.workspace.runs_json()[0]["callback_deliveries"]
    assert delivery["error"] == error
    err = capsys.readouterr().err
    assert err.endswith(f"/hook failed: {error}\n") and SECRET not in err


def test_a_url_that_is_not_http_is_logged_not_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        run_id = await start(client, "quick", "ftp://host/x?key=k", ["started"])
        run = ctx.workspace.runs[run_id]
        await until(lambda: bool(run.deliveries) and run.deliveries[0]["error"] is not None)

    run(scenario)
    err = capsys.readouterr().err
    assert err.endswith("to ftp://host/x failed: the URL is not a valid http(s) URL\n")


def test_reset_cancels_pending_callbacks() -> None:
    receiver = Receiver()

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        await start(client, "quick", url, ["completed"])
        response = await client.post("/_emulator/reset", headers=AUTH)
        assert response.status == 200
        await asyncio.sleep(0.5)  # the run would have ended after 0.3 s

    run(scenario, receiver)
    assert receiver.received == []


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("delay", [0.0, 0.5], ids=["answered at once", "retried while posting"])
def test_a_retry_that_completes_the_run_delivers_completed_but_not_started_again(
    delay: float,
) -> None:
    # With a delay, the retry comes while the emulator still waits for the receiver's
    # answer to `unresolved`: the delivery must not end there (it used to, and the
    # `completed` of the retried run was never sent).
    receiver = Receiver(delay=delay)

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        run_id = await start(client, "failing", url)
        await until(lambda: len(receiver.received) == 2)
        [item] = [i for i in ctx.workspace.work_items_json() if i["process_run_id"] == run_id]
        response = await client.post(
            f"/api/v1/workspaces/{WS}/work-items/batch",
            json={"batch_operation": "retry", "work_item_ids": [item["id"]]},
            headers=AUTH,
        )
        assert response.status == 200, await response.text()
        await until(lambda: len(receiver.received) == 3)
        await asyncio.sleep(0.1)  # nothing more comes

    run(scenario, receiver)
    assert receiver.events() == [
        "process_run.started",
        "process_run.unresolved",
        "process_run.completed",
    ]
    last = json.loads(receiver.received[-1][2])["payload"]["process_run"]
    assert last["state"] == "completed"


def test_marking_an_item_done_that_leaves_the_run_unresolved_delivers_nothing() -> None:
    receiver = Receiver()
    failures = [{"type": "business", "code": "E", "message": "m"}] * 2

    async def scenario(client: TestClient, url: str, ctx: Context) -> None:
        ctx.workspace.define_process(
            parse_process(
                {"id": "two", "new_seconds": 0, "run_seconds": 2, "outcome": "unresolved",
                 "failures": failures}
            )
        )  # fmt: skip
        run_id = await start(client, "two", url, type="with_payloads", payloads=[1, 2])
        await until(lambda: len(receiver.received) == 2)
        ids = [i["id"] for i in ctx.workspace.work_items_json() if i["process_run_id"] == run_id]
        for item_id in ids:
            response = await client.post(
                f"/api/v1/workspaces/{WS}/work-items/batch",
                json={"batch_operation": "mark_as_done", "work_item_ids": [item_id]},
                headers=AUTH,
            )
            assert response.status == 200, await response.text()
            await asyncio.sleep(0.1)
        await until(lambda: len(receiver.received) == 3)

    run(scenario, receiver)
    assert receiver.events() == [
        "process_run.started",
        "process_run.unresolved",
        "process_run.completed",
    ]

"""Process run callbacks: POST a run's events to the `callback.url` of its start request.

One asyncio task per run with a callback. It sleeps until the next moment the run's state
can change (on the emulated clock; a stop request wakes it), then posts the events the
start request selected: `started` when the run leaves `new`, and `completed` or
`unresolved` when it ends. Fire-and-forget: the start request never waits for it, a
delivery is tried once, with a short timeout, and a failure is one line on standard error
(never the secret, nor the URL's query or user info).

The request, as docs/emulator.md describes it (what is published and what is inferred):

    POST <callback.url>
    Content-Type: application/json
    X-RC-Signature: <hex HMAC-SHA256 of the body, keyed with callback.secret>

    {"id": "<event id>", "webhookEventTimestamp": "<ISO time>",
     "event": "process_run.completed",
     "payload": {"workspace_id": "...", "process_run": <ProcessRun as GET answers it>}}
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import uuid
from typing import Any

import aiohttp
from yarl import URL

from ...version import VERSION
from ..common import ENDED_STATES, iso
from ..model import Run
from ..state import Workspace
from .loglimit import stderr_lines

SIGNATURE_HEADER = "X-RC-Signature"
DEFAULT_TIMEOUT = 5.0  # seconds, real time, for one delivery


def event_body(workspace: Workspace, run: Run, event: str, now: float) -> bytes:
    body = {
        "id": str(uuid.uuid4()),
        "webhookEventTimestamp": iso(now),
        "event": f"process_run.{event}",
        "payload": {
            "workspace_id": workspace.workspace_id,
            "process_run": workspace.run_json(run, now),
        },
    }
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8", "surrogateescape"), body, hashlib.sha256).hexdigest()


def shown_url(url: str) -> str:
    """The URL for a log line: scheme, host, port and path only (the user info and the
    query may hold credentials)."""
    try:
        parsed = URL(url)
        if not parsed.absolute:
            return "a URL that is not absolute"
        return str(parsed.with_user(None).with_query(None).with_fragment(None))
    except (ValueError, TypeError):
        return "a URL that is not valid"


# aiohttp 3.10 added NonHttpUrlClientError (an ftp:// URL, say); older ones raise InvalidURL.
NOT_A_URL: tuple[type[Exception], ...] = (
    aiohttp.InvalidURL,
    ValueError,
    *[getattr(aiohttp, "NonHttpUrlClientError", aiohttp.InvalidURL)],
)


def describe(error: Exception) -> str:
    """Why a delivery failed, without the URL's query or user info (aiohttp's messages
    for an invalid URL or a bad answer quote the whole URL)."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect to {error.host}:{error.port}"
    if isinstance(error, NOT_A_URL):
        return "the URL is not a valid http(s) URL"
    return f"{type(error).__name__}"


class Callbacks:
    """The delivery tasks of one emulator."""

    def __init__(self, workspace: Workspace, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.workspace = workspace
        self.timeout = timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._session: aiohttp.ClientSession | None = None
        workspace.run_changed = self.wake  # a run whose steps are real commands moved

    def watch(self, run: Run, started_seen: bool = False) -> None:
        """Start delivering the events of a run that was just started with a callback
        (`started_seen`: of a run that started before, whose outcome is due again)."""
        if run.callback is None:
            return
        self._wake[run.id] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._deliver(run, started_seen))
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._forget(run.id, task))

    def wake(self, run_id: str) -> None:
        """The run's timeline changed (a stop request): look at it again."""
        event = self._wake.get(run_id)
        if event is not None:
            event.set()

    def resume(self, run: Run) -> None:
        """The run's state changed after it had ended (a retry, mark as done or delete of
        work items): its new outcome is delivered; `started` is not sent again."""
        if run.id in self._tasks:
            self.wake(run.id)
        else:
            self.watch(run, started_seen=True)

    def _forget(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]
            self._wake.pop(run_id, None)

    def cancel_all(self) -> None:
        """Forget every pending delivery (the emulator was reset)."""
        for task in list(self._tasks.values()):
            task.cancel()
        self._tasks.clear()
        self._wake.clear()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self.cancel_all()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, run: Run, started_seen: bool = False) -> None:
        assert run.callback is not None
        wanted = set(run.callback["callback_events"])
        workspace = self.workspace
        clock = workspace.clock
        while True:
            # Cleared before the run is looked at: a stop, retry or mark as done that comes
            # while an event is being posted sets it again, and the loop looks once more.
            wake = self._wake[run.id]
            wake.clear()
            now = clock.now()
            line = workspace.timeline(run)
            if not started_seen and line.started is not None and now >= line.started:
                started_seen = True
                if "started" in wanted:
                    await self._post(run, "started")
            state = workspace.run_state(run, now)
            if state in ENDED_STATES:
                if state in wanted:
                    await self._post(run, state)
                if wake.is_set():  # a retry or mark as done came while it was posted
                    continue
                return
            upcoming = [
                moment
                for moment in (None if started_seen else line.started, line.ended)
                if moment is not None and moment > now
            ]
            # Real seconds to the next change; None: only a stop request changes anything.
            delay = (min(upcoming) - now) / clock.factor + 0.001 if upcoming else None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)

    async def _post(self, run: Run, event: str) -> None:
        assert run.callback is not None
        url, secret = run.callback["url"], run.callback["secret"]
        now = self.workspace.clock.now()
        body = event_body(self.workspace, run, event, now)
        delivery: dict[str, Any] = {"event": event, "at": iso(now), "status": None, "error": None}
        run.deliveries.append(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"processrun-emulator/{VERSION}",
            SIGNATURE_HEADER: signature(secret, body),
        }
        try:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                delivery["status"] = response.status
                if not 200 <= response.status < 300:
                    delivery["error"] = f"answered {response.status}"
        except asyncio.TimeoutError:
            delivery["error"] = f"no answer within {self.timeout:g} s"
        except (aiohttp.ClientError, ValueError, OSError) as error:
            delivery["error"] = describe(error)
        if delivery["error"] is not None:
            stderr_lines.write(
                f"callback {event} of process run {run.id} to "
                f"{shown_url(url)} failed: {delivery['error']}"
            )

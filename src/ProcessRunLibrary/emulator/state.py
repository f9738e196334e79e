"""The emulated workspace: processes, runs, work items, outputs and the clock.

Pure Python, no aiohttp: every method takes plain values and returns JSON-ready
dictionaries, or raises :class:`ApiError`. A run's state is never stored: it is derived from
the emulated time elapsed since the run was created and from the process's durations, so no
background task is needed and a high clock factor makes everything happen sooner.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

RUN_STATES = ("new", "in_progress", "completed", "unresolved", "stopping")
ENDED_STATES = ("completed", "unresolved")
WORK_ITEM_STATES = ("new", "pending", "in_progress", "failed", "done")
EXCEPTION_TYPES = ("application", "business", "orchestrator", "unspecified")
CALLBACK_EVENTS = ("started", "completed", "unresolved")
START_TYPES = ("with_work_item_ids", "with_inputs", "with_payloads")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_STOPPING_SECONDS = 1.0

# Used when an unresolved process has no `failures` configured.
DEFAULT_FAILURE = {
    "type": "unspecified",
    "code": "UNSPECIFIED",
    "message": "The work item failed.",
}
STOPPED_CODE = "PROCESS_RUN_STOPPED"

_ID_NAMESPACE = uuid.UUID("6b3c3f0e-2f5d-4a8e-9c1a-5e0f6a1d2b7c")


class ApiError(Exception):
    """An error answered as `{"error": {"code": code, "message": message}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


class ConfigError(ValueError):
    """A process definition or a configuration file is not valid."""


MAX_JSON_DEPTH = 100


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def parse_json(raw: bytes | str) -> Any:
    """Parse JSON as strictly as a JSON encoder writes it: no NaN or Infinity, no number
    that overflows a float (1e400), at most MAX_JSON_DEPTH levels of arrays and objects.
    Anything this accepts can be answered again as JSON. Raises ValueError."""
    try:
        data = json.loads(raw, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise ValueError("too deeply nested") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise ValueError("too deeply nested")
    return data


def json_depth(data: Any) -> int:
    """Levels of arrays and objects (0 for a scalar); iterative, so any depth is safe."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in value)
    return deepest


def iso(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, millisecond precision."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock:
    """Emulated time: real time since the clock was made, multiplied by `factor`.

    Timestamps are epoch seconds on the emulated time line, so with a factor of 10 a run of a
    "10 second" process reports a duration of 10 and takes one real second.
    """

    def __init__(self, factor: float = 1.0, real: Callable[[], float] = time.time) -> None:
        if not math.isfinite(factor) or factor <= 0:
            raise ConfigError("clock_factor must be a positive number.")
        self.factor = float(factor)
        self._real = real
        self._origin = real()

    def now(self) -> float:
        return self._origin + (self._real() - self._origin) * self.factor


# --- Process definitions ----------------------------------------------------------------


@dataclass(frozen=True)
class OutputFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class OutputSpec:
    payload: Any
    files: tuple[OutputFile, ...]


@dataclass(frozen=True)
class Process:
    id: str
    name: str
    new_seconds: float = 0.5
    run_seconds: float | None = 2.0
    outcome: str = "completed"
    failures: tuple[dict[str, str], ...] = ()
    outputs: str | tuple[OutputSpec, ...] = ()
    input_queue: tuple[Any, ...] = ()
    default_work_item: Any = None
    allow_parallel_runs: bool = True

    def exceptions(self) -> tuple[dict[str, str], ...]:
        """What the first work items of an unresolved run fail with."""
        if self.outcome != "unresolved":
            return ()
        return self.failures or (DEFAULT_FAILURE,)

    def to_json(self) -> dict[str, Any]:
        outputs: Any
        if isinstance(self.outputs, str):
            outputs = self.outputs
        else:
            outputs = [
                {
                    "payload": spec.payload,
                    "files": [_file_json(f) for f in spec.files],
                }
                for spec in self.outputs
            ]
        return {
            "id": self.id,
            "name": self.name,
            "new_seconds": self.new_seconds,
            "run_seconds": self.run_seconds,
            "outcome": self.outcome,
            "failures": [dict(f) for f in self.failures],
            "outputs": outputs,
            "input_queue": list(self.input_queue),
            "default_work_item": self.default_work_item,
            "allow_parallel_runs": self.allow_parallel_runs,
        }


def _file_json(file: OutputFile) -> dict[str, Any]:
    try:
        return {"name": file.name, "content": file.content.decode("utf-8")}
    except UnicodeDecodeError:
        return {"name": file.name, "content_base64": base64.b64encode(file.content).decode()}


PROCESS_KEYS = frozenset(Process.__dataclass_fields__)


def parse_process(data: Any, process_id: str | None = None) -> Process:
    """Validate one process definition (see docs/emulator.md) and build a :class:`Process`."""
    if not isinstance(data, dict):
        raise ConfigError("A process definition must be a JSON object.")
    unknown = sorted(set(data) - PROCESS_KEYS)
    if unknown:
        raise ConfigError(f"Unknown process field(s): {', '.join(unknown)}.")
    pid = data.get("id", process_id)
    if process_id is not None and pid != process_id:
        raise ConfigError(f"Process id '{pid}' in the body does not match '{process_id}'.")
    if not isinstance(pid, str) or not pid or any(c in pid for c in "/?#"):
        raise ConfigError("Process 'id' must be a non-empty string without '/', '?' or '#'.")
    name = data.get("name", pid)
    if not isinstance(name, str):
        raise ConfigError(f"Process '{pid}': 'name' must be a string.")
    new_seconds = _seconds(data.get("new_seconds", 0.5), pid, "new_seconds", nullable=False)
    run_seconds = _seconds(data.get("run_seconds", 2.0), pid, "run_seconds", nullable=True)
    outcome = data.get("outcome", "completed")
    if outcome not in ENDED_STATES:
        raise ConfigError(f"Process '{pid}': 'outcome' must be 'completed' or 'unresolved'.")
    failures = tuple(_failure(f, pid) for f in _list(data.get("failures", []), pid, "failures"))
    outputs = _outputs(data.get("outputs", []), pid)
    queue = tuple(_list(data.get("input_queue", []), pid, "input_queue"))
    parallel = data.get("allow_parallel_runs", True)
    if not isinstance(parallel, bool):
        raise ConfigError(f"Process '{pid}': 'allow_parallel_runs' must be true or false.")
    return Process(
        id=pid,
        name=name,
        new_seconds=new_seconds or 0.0,
        run_seconds=run_seconds,
        outcome=outcome,
        failures=failures,
        outputs=outputs,
        input_queue=queue,
        default_work_item=data.get("default_work_item"),
        allow_parallel_runs=parallel,
    )


def is_number(value: Any) -> bool:
    """An int or a finite float, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _seconds(value: Any, pid: str, name: str, nullable: bool) -> float | None:
    if value is None and nullable:
        return None
    if not is_number(value) or value < 0:
        extra = " or null" if nullable else ""
        raise ConfigError(f"Process '{pid}': '{name}' must be a number >= 0{extra}.")
    return float(value)


def _list(value: Any, pid: str, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"Process '{pid}': '{name}' must be a list.")
    return value


def _failure(value: Any, pid: str) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("type") not in EXCEPTION_TYPES:
        raise ConfigError(
            f"Process '{pid}': each failure needs a 'type' out of {', '.join(EXCEPTION_TYPES)}."
        )
    code = value.get("code", "ERROR")
    message = value.get("message", "")
    if not isinstance(code, str) or not isinstance(message, str):
        raise ConfigError(f"Process '{pid}': a failure's 'code' and 'message' must be strings.")
    return {"type": value["type"], "code": code, "message": message}


def _outputs(value: Any, pid: str) -> str | tuple[OutputSpec, ...]:
    if value == "echo":
        return "echo"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"Process '{pid}': 'outputs' must be \"echo\" or a list.")
    specs = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"payload", "files"}:
            raise ConfigError(f"Process '{pid}': an output is an object with payload and files.")
        files = tuple(_output_file(f, pid) for f in _list(item.get("files", []), pid, "files"))
        specs.append(OutputSpec(payload=item.get("payload"), files=files))
    return tuple(specs)


def _output_file(value: Any, pid: str) -> OutputFile:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ConfigError(f"Process '{pid}': an output file needs a 'name'.")
    if "content_base64" in value:
        try:
            content = base64.b64decode(value["content_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError) as err:
            raise ConfigError(f"Process '{pid}': 'content_base64' is not valid base64.") from err
    else:
        text = value.get("content", "")
        if not isinstance(text, str):
            raise ConfigError(f"Process '{pid}': an output file's 'content' must be a string.")
        content = text.encode("utf-8")
    return OutputFile(name=value["name"], content=content)


DEMO_PROCESSES: list[dict[str, Any]] = [
    {"id": "demo-quick", "name": "Demo: quick", "new_seconds": 0.2, "run_seconds": 0.8},
    {"id": "demo-slow", "name": "Demo: slow", "new_seconds": 2, "run_seconds": 60},
    {
        "id": "demo-failing",
        "name": "Demo: failing",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outcome": "unresolved",
        "failures": [
            {
                "type": "business",
                "code": "INVALID_ORDER",
                "message": "Order 42 has no customer.",
            }
        ],
    },
    {"id": "demo-forever", "name": "Demo: forever", "new_seconds": 0.2, "run_seconds": None},
    {
        "id": "demo-echo",
        "name": "Demo: echo",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outputs": "echo",
        "default_work_item": {"message": "hello"},
    },
    {
        "id": "demo-queue",
        "name": "Demo: input queue",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outputs": "echo",
        "input_queue": [{"order": 1}, {"order": 2}],
    },
    {
        "id": "demo-files",
        "name": "Demo: output files",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outputs": [
            {
                "payload": {"report": "report.txt"},
                "files": [{"name": "report.txt", "content": "All good.\n"}],
            }
        ],
    },
]


# --- Runs and work items ------------------------------------------------------------------


@dataclass
class WorkItem:
    id: str
    seq: int
    process_id: str
    payload: Any
    created: float


@dataclass(frozen=True)
class StopRequest:
    at: float
    set_done: bool
    terminate: bool
    reason: str | None


@dataclass
class Run:
    id: str
    seq: int
    process: Process  # a snapshot: redefining the process does not change its runs
    created: float
    items: list[WorkItem]
    start_type: str
    callback: dict[str, Any] | None = None
    stop: StopRequest | None = None
    deleted_at: float | None = None
    file_ids: list[list[str]] = field(default_factory=list)
    # Filled by callbacks.py: {event, at, status, error} per callback POST attempted.
    deliveries: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Timeline:
    started: float | None
    ended: float | None
    outcome: str
    processing_end: float | None  # when items stop moving: natural end or the stop request


@dataclass(frozen=True)
class ItemView:
    state: str
    updated: float
    exception: dict[str, str] | None


class Workspace:
    """All state of one emulated workspace."""

    def __init__(
        self,
        workspace_id: str,
        processes: Iterable[Process],
        clock: Clock | None = None,
        stopping_seconds: float = DEFAULT_STOPPING_SECONDS,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.workspace_id = workspace_id
        self.clock = clock or Clock()
        self.stopping_seconds = stopping_seconds
        self.page_size = page_size
        self._initial_processes = list(processes)
        self.processes: dict[str, Process] = {}
        self.queues: dict[str, list[WorkItem]] = {}
        self.runs: dict[str, Run] = {}
        self.items: dict[str, WorkItem] = {}
        self.files: dict[str, OutputFile] = {}
        self._seq = 0
        for process in self._initial_processes:
            self.define_process(process)

    # -- bookkeeping

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_item(self, process_id: str, payload: Any, now: float) -> WorkItem:
        item = WorkItem(str(uuid.uuid4()), self._next_seq(), process_id, payload, now)
        self.items[item.id] = item
        return item

    def define_process(self, process: Process) -> None:
        """Add or replace a process; its input queue is replaced by the new definition's."""
        now = self.clock.now()
        for old in self.queues.get(process.id, []):
            self.items.pop(old.id, None)
        self.processes[process.id] = process
        self.queues[process.id] = [self._new_item(process.id, p, now) for p in process.input_queue]

    def delete_process(self, process_id: str) -> None:
        if process_id not in self.processes:
            raise not_found(f"Process '{process_id}' not found.")
        for old in self.queues.pop(process_id, []):
            self.items.pop(old.id, None)
        del self.processes[process_id]

    def reset(self, reset_processes: bool = False) -> None:
        """Forget every run, work item and file; optionally restore the initial processes."""
        processes = self._initial_processes if reset_processes else list(self.processes.values())
        self.processes, self.queues, self.runs, self.items, self.files = {}, {}, {}, {}, {}
        for process in processes:
            self.define_process(process)

    def _process(self, process_id: str) -> Process:
        try:
            return self.processes[process_id]
        except KeyError:
            raise not_found(f"Process '{process_id}' not found.") from None

    def _run(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None or run.deleted_at is not None:
            raise not_found(f"Process run '{run_id}' not found.")
        return run

    # -- the lifecycle, derived from the clock

    def timeline(self, run: Run) -> Timeline:
        process = run.process
        natural_start = run.created + process.new_seconds
        natural_end = None if process.run_seconds is None else natural_start + process.run_seconds
        stop = run.stop
        if stop is None:
            return Timeline(natural_start, natural_end, process.outcome, natural_end)
        started = natural_start if natural_start <= stop.at else None
        outcome = "completed" if stop.set_done else "unresolved"
        return Timeline(started, stop.at + self.stopping_seconds, outcome, stop.at)

    def run_state(self, run: Run, now: float) -> str:
        line = self.timeline(run)
        if line.ended is not None and now >= line.ended:
            return line.outcome
        if run.stop is not None and now >= run.stop.at:
            return "stopping"
        if line.started is None or now < line.started:
            return "new"
        return "in_progress"

    def has_ended(self, run: Run, now: float) -> bool:
        return self.run_state(run, now) in ENDED_STATES

    def _natural_item(self, run: Run, index: int, now: float) -> ItemView:
        """The item's state had the run not been stopped."""
        process = run.process
        start = run.created + process.new_seconds
        if now < start:
            return ItemView("pending", run.created, None)
        if process.run_seconds is None:
            if index == 0:
                return ItemView("in_progress", start, None)
            return ItemView("pending", run.created, None)
        count = len(run.items)
        begin = start + process.run_seconds * index / count
        end = start + process.run_seconds * (index + 1) / count
        if now >= end or now >= start + process.run_seconds:
            failures = process.exceptions()
            if index < len(failures):
                return ItemView("failed", end, dict(failures[index]))
            return ItemView("done", end, None)
        if now >= begin:
            return ItemView("in_progress", begin, None)
        return ItemView("pending", run.created, None)

    def item_view(self, run: Run, index: int, now: float) -> ItemView:
        stop = run.stop
        if stop is None or now < stop.at:
            return self._natural_item(run, index, now)
        at_stop = self._natural_item(run, index, stop.at)
        if at_stop.state in ("done", "failed"):
            return at_stop
        ended = stop.at + self.stopping_seconds
        if now < ended:
            return at_stop
        if stop.set_done:
            return ItemView("done", ended, None)
        message = "The process run was stopped."
        if stop.reason:
            message = f"The process run was stopped: {stop.reason}"
        return ItemView(
            "failed", ended, {"type": "orchestrator", "code": STOPPED_CODE, "message": message}
        )

    # -- operations of the API

    def start_run(self, process_id: str, body: Any) -> dict[str, Any]:
        """Start a run from a start request body (already parsed JSON, None for no body)."""
        process = self._process(process_id)
        start_type, callback, payloads = self._parse_start_body(body)
        now = self.clock.now()
        self._check_parallel(process, now)
        items: list[WorkItem]
        if start_type == "with_inputs":
            items = self.queues.get(process_id, [])
            if not items:
                return {"started": False}
            self.queues[process_id] = []
        elif start_type == "with_work_item_ids":
            items = [self._take_item(item_id, process_id, now) for item_id in payloads]
        elif start_type == "with_payloads":
            items = [self._new_item(process_id, p, now) for p in payloads]
        else:
            payload = {} if process.default_work_item is None else process.default_work_item
            items = [self._new_item(process_id, payload, now)]
        run = Run(
            id=str(uuid.uuid4()),
            seq=self._next_seq(),
            process=process,
            created=now,
            items=items,
            start_type=start_type,
            callback=callback,
        )
        self._register_files(run)
        self.runs[run.id] = run
        return {"started": True, "id": run.id}

    def start_for_integration(self, process_id: str, payload: Any) -> dict[str, Any]:
        process = self._process(process_id)
        now = self.clock.now()
        self._check_parallel(process, now)
        run = Run(
            id=str(uuid.uuid4()),
            seq=self._next_seq(),
            process=process,
            created=now,
            items=[self._new_item(process_id, payload, now)],
            start_type="integration",
        )
        self._register_files(run)
        self.runs[run.id] = run
        return {"started": True, "id": run.id}

    def _check_parallel(self, process: Process, now: float) -> None:
        if process.allow_parallel_runs:
            return
        for run in self.runs.values():
            if (
                run.process.id == process.id
                and run.deleted_at is None
                and not self.has_ended(run, now)
            ):
                raise conflict(
                    f"Process '{process.id}' already has a process run that has not ended "
                    f"('{run.id}') and does not allow parallel runs."
                )

    def _take_item(self, item_id: str, process_id: str, now: float) -> WorkItem:
        """A work item for a new run: a queued item is taken from the queue, an item of an
        earlier run is copied (its payload goes into a new work item)."""
        item = self.items.get(item_id)
        if item is None:
            raise bad_request(f"Work item '{item_id}' not found.")
        queue = self.queues.get(item.process_id, [])
        if item in queue:
            queue.remove(item)
            return item
        return self._new_item(process_id, item.payload, now)

    def _parse_start_body(self, body: Any) -> tuple[str, dict[str, Any] | None, list[Any]]:
        if body is None:
            return "default", None, []
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        callback = _parse_callback(body["callback"]) if "callback" in body else None
        start_type = body.get("type")
        if start_type is None:
            extra = sorted(set(body) - {"callback"})
            if extra:
                raise bad_request(
                    f"Unexpected field(s) {', '.join(extra)} in a request body without 'type'."
                )
            return "default", callback, []
        if start_type not in START_TYPES:
            raise bad_request(f"'type' must be one of {', '.join(START_TYPES)}.")
        if start_type == "with_inputs":
            return start_type, callback, []
        key = "work_item_ids" if start_type == "with_work_item_ids" else "payloads"
        values = body.get(key)
        if not isinstance(values, list) or not values:
            raise bad_request(f"'{key}' must be a non-empty list when 'type' is '{start_type}'.")
        if key == "work_item_ids" and not all(isinstance(v, str) and v for v in values):
            raise bad_request("'work_item_ids' must be a list of work item id strings.")
        return start_type, callback, values

    def _register_files(self, run: Run) -> None:
        outputs = run.process.outputs
        if isinstance(outputs, str):
            return
        for o_index, spec in enumerate(outputs):
            ids = []
            for f_index, file in enumerate(spec.files):
                file_id = str(uuid.uuid5(_ID_NAMESPACE, f"{run.id}/{o_index}/{f_index}"))
                self.files[file_id] = file
                ids.append(file_id)
            run.file_ids.append(ids)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.run_json(self._run(run_id), self.clock.now())

    def run_json(self, run: Run, now: float) -> dict[str, Any]:
        line = self.timeline(run)
        state = self.run_state(run, now)
        started = line.started if line.started is not None and now >= line.started else None
        ended = line.ended if state in ENDED_STATES else None
        duration = None
        if ended is not None:
            duration = round(ended - (started if started is not None else run.created), 3)
        return {
            "id": run.id,
            "state": state,
            "created_at": iso(run.created),
            "started_at": iso(started),
            "ended_at": iso(ended),
            "duration": duration,
            "process": {"id": run.process.id, "name": run.process.name},
            "started_by": {"type": "api", "details": None},
        }

    def list_runs(
        self, process_id: str | None, state: str | None, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of runs, newest first; returns the page and the cursor of the next one."""
        if state is not None and state not in RUN_STATES:
            raise bad_request(f"'state' must be one of {', '.join(RUN_STATES)}.")
        now = self.clock.now()
        runs = sorted(self.runs.values(), key=lambda r: r.seq, reverse=True)
        candidates = (
            r
            for r in runs
            if r.deleted_at is None
            and (cursor is None or r.seq < cursor)
            and (process_id is None or r.process.id == process_id)
            and (state is None or self.run_state(r, now) == state)
        )
        return _page(candidates, limit, lambda r: r.seq, lambda r: self.run_json(r, now))

    def stop_run(self, run_id: str, body: Any) -> dict[str, Any]:
        run = self._run(run_id)
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        for key in ("set_remaining_work_items_as_done", "terminate_ongoing_activity_runs"):
            if not isinstance(body.get(key), bool):
                raise bad_request(f"'{key}' is required and must be true or false.")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise bad_request("'reason' must be a string.")
        now = self.clock.now()
        if self.has_ended(run, now):
            return {"accepted": False}
        if run.stop is None:
            run.stop = StopRequest(
                at=now,
                set_done=body["set_remaining_work_items_as_done"],
                terminate=body["terminate_ongoing_activity_runs"],
                reason=reason,
            )
        return {"accepted": True}

    def delete_run(self, run_id: str) -> dict[str, Any]:
        run = self._run(run_id)
        now = self.clock.now()
        state = self.run_state(run, now)
        if state not in ENDED_STATES:
            raise conflict(
                f"Process run '{run_id}' has not ended (state '{state}'): only completed or "
                "unresolved process runs can be deleted."
            )
        run.deleted_at = now
        return {"id": run.id, "deleted": True}

    def _outputs(self, run: Run, now: float, base_url: str) -> list[dict[str, Any]]:
        line = self.timeline(run)
        if line.ended is None or now < line.ended:
            return []
        created = iso(line.ended)
        reference = {"process": {"id": run.process.id}, "process_run": {"id": run.id}}
        outputs: list[dict[str, Any]] = []
        if isinstance(run.process.outputs, str):  # "echo"
            for index, item in enumerate(run.items):
                if self.item_view(run, index, now).state == "done":
                    outputs.append(
                        {
                            "id": str(uuid.uuid5(_ID_NAMESPACE, f"{run.id}/output/{index}")),
                            "created_at": created,
                            **reference,
                            "payload": item.payload,
                            "files": [],
                        }
                    )
            return outputs
        for index, spec in enumerate(run.process.outputs):
            files = [
                {
                    "id": file_id,
                    "name": file.name,
                    "size": len(file.content),
                    "download": {"url": f"{base_url}/_emulator/files/{file_id}"},
                }
                for file_id, file in zip(run.file_ids[index], spec.files, strict=True)
            ]
            outputs.append(
                {
                    "id": str(uuid.uuid5(_ID_NAMESPACE, f"{run.id}/output/{index}")),
                    "created_at": created,
                    **reference,
                    "payload": spec.payload,
                    "files": files,
                }
            )
        return outputs

    def list_outputs(
        self, run_id: str, limit: int, cursor: int | None, base_url: str
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Outputs of one run in the order they were produced. An unknown run has none
        (the seed documents no 404 for this operation)."""
        run = self.runs.get(run_id)
        if run is None or run.deleted_at is not None:
            return [], None
        outputs = self._outputs(run, self.clock.now(), base_url)
        start = 0 if cursor is None else cursor
        page = outputs[start : start + limit]
        more = start + limit < len(outputs)
        return page, (start + limit if more else None)

    def work_item_json(
        self, item: WorkItem, run: Run | None, index: int, now: float
    ) -> dict[str, Any]:
        if run is None:
            view = ItemView("new", item.created, None)
        else:
            view = self.item_view(run, index, now)
        return {
            "id": item.id,
            "created_at": iso(item.created),
            "state": view.state,
            "state_updated_at": iso(view.updated),
            "process": {"id": item.process_id},
            "process_run": None if run is None else {"id": run.id},
            "step": None,
            "step_run": None,
            "exception": view.exception,
        }

    def _all_items(self) -> list[tuple[WorkItem, Run | None, int]]:
        found: list[tuple[WorkItem, Run | None, int]] = []
        for queue in self.queues.values():
            found.extend((item, None, 0) for item in queue)
        for run in self.runs.values():
            if run.deleted_at is None:
                found.extend((item, run, i) for i, item in enumerate(run.items))
        found.sort(key=lambda entry: entry[0].seq)
        return found

    def list_work_items(
        self,
        process_id: str | None,
        run_id: str | None,
        state: str | None,
        limit: int,
        cursor: int | None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        if state is not None and state not in WORK_ITEM_STATES:
            raise bad_request(f"'state' must be one of {', '.join(WORK_ITEM_STATES)}.")
        now = self.clock.now()
        entries = (
            (item, self.work_item_json(item, run, index, now))
            for item, run, index in self._all_items()
            if (cursor is None or item.seq > cursor)
            and (process_id is None or item.process_id == process_id)
            and (run_id is None or (run is not None and run.id == run_id))
        )
        matching = (e for e in entries if state is None or e[1]["state"] == state)
        return _page(matching, limit, lambda e: e[0].seq, lambda e: e[1])

    # -- admin views

    def runs_json(self, process_id: str | None = None) -> list[dict[str, Any]]:
        now = self.clock.now()
        result = []
        for run in sorted(self.runs.values(), key=lambda r: r.seq):
            if process_id is not None and run.process.id != process_id:
                continue
            stop = run.stop
            result.append(
                {
                    "id": run.id,
                    "process_id": run.process.id,
                    "state": self.run_state(run, now),
                    "created_at": iso(run.created),
                    "start_type": run.start_type,
                    "payloads": [item.payload for item in run.items],
                    "work_items": [
                        {
                            "id": item.id,
                            "state": self.item_view(run, i, now).state,
                            "payload": item.payload,
                        }
                        for i, item in enumerate(run.items)
                    ],
                    # The secret is never shown: a test log must not leak it.
                    "callback": None if run.callback is None else {**run.callback, "secret": "***"},
                    "stop": None
                    if stop is None
                    else {
                        "at": iso(stop.at),
                        "set_remaining_work_items_as_done": stop.set_done,
                        "terminate_ongoing_activity_runs": stop.terminate,
                        "reason": stop.reason,
                    },
                    "callback_deliveries": [dict(d) for d in run.deliveries],
                    "deleted": run.deleted_at is not None,
                    "deleted_at": iso(run.deleted_at),
                }
            )
        return result

    def processes_json(self) -> list[dict[str, Any]]:
        result = []
        for process in self.processes.values():
            data = process.to_json()
            data["queued_work_items"] = [
                {"id": item.id, "payload": item.payload} for item in self.queues[process.id]
            ]
            result.append(data)
        return result


def _parse_callback(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("'callback' must be an object with url, secret and callback_events.")
    for key in ("url", "secret"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise bad_request(f"'callback.{key}' is required and must be a non-empty string.")
    events = value.get("callback_events")
    if not isinstance(events, list) or not events or not all(e in CALLBACK_EVENTS for e in events):
        raise bad_request(
            "'callback.callback_events' is required and must list some of "
            f"{', '.join(CALLBACK_EVENTS)}."
        )
    return {"url": value["url"], "secret": value["secret"], "callback_events": list(events)}


def _page(
    candidates: Iterable[Any],
    limit: int,
    seq_of: Callable[[Any], int],
    render: Callable[[Any], dict[str, Any]],
) -> tuple[list[dict[str, Any]], int | None]:
    """Take `limit` candidates; the cursor is the seq of the last one if more follow."""
    page: list[Any] = []
    for candidate in candidates:
        if len(page) == limit:
            return [render(c) for c in page], seq_of(page[-1])
        page.append(candidate)
    return [render(c) for c in page], None


def load_config(data: Any) -> dict[str, Any]:
    """Validate a configuration file's content; returns the settings and processes."""
    if not isinstance(data, dict):
        raise ConfigError("The configuration must be a JSON object.")
    unknown = sorted(set(data) - {"clock_factor", "stopping_seconds", "page_size", "processes"})
    if unknown:
        raise ConfigError(f"Unknown configuration field(s): {', '.join(unknown)}.")
    settings: dict[str, Any] = {}
    factor = data.get("clock_factor", 1.0)
    if not is_number(factor) or factor <= 0:
        raise ConfigError("'clock_factor' must be a positive number.")
    settings["clock_factor"] = float(factor)
    stopping = data.get("stopping_seconds", DEFAULT_STOPPING_SECONDS)
    if not is_number(stopping) or stopping < 0:
        raise ConfigError("'stopping_seconds' must be a number >= 0.")
    settings["stopping_seconds"] = float(stopping)
    page_size = data.get("page_size", DEFAULT_PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool):
        raise ConfigError(f"'page_size' must be an integer from 1 to {MAX_PAGE_SIZE}.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"'page_size' must be an integer from 1 to {MAX_PAGE_SIZE}.")
    settings["page_size"] = page_size
    processes = data.get("processes", DEMO_PROCESSES)
    if not isinstance(processes, list):
        raise ConfigError("'processes' must be a list of process definitions.")
    parsed = [parse_process(p) for p in processes]
    ids = [p.id for p in parsed]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"Duplicate process id(s): {', '.join(duplicates)}.")
    settings["processes"] = parsed
    return settings

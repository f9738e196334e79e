"""The records of an emulated workspace and the bookkeeping every resource shares."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock
from .common import DEFAULT_PAGE_SIZE, DEFAULT_STOPPING_SECONDS, not_found
from .processes import OutputFile, Process
from .signing import DEFAULT_EXPIRY_SECONDS
from .spool import Spool, StoredFile


@dataclass
class WorkItemFile:
    """A file announced with createWorkItemFile; `stored` (its bytes, on disk in the
    workspace's spool) is None until it is uploaded."""

    id: str
    name: str
    size: int  # as announced; the upload must have exactly this many bytes
    key: str  # the `key` form field of its upload
    created: float
    stored: StoredFile | None = None

    @property
    def uploaded(self) -> bool:
        return self.stored is not None

    def discard(self) -> None:
        """Remove its bytes from disk: the file is deleted, or its item is."""
        if self.stored is not None:
            self.stored.discard()
            self.stored = None


@dataclass
class WorkItem:
    id: str
    seq: int
    process_id: str
    payload: Any
    created: float
    files: list[WorkItemFile] = field(default_factory=list)
    done_at: float | None = None  # marked as done (batch operation mark_as_done)
    payload_updated: float | None = None


@dataclass(frozen=True)
class StopRequest:
    at: float
    set_done: bool
    terminate: bool
    reason: str | None


@dataclass
class Attempt:
    """A retry: the items at `indexes` (of Run.items) are processed again from `at`."""

    at: float
    indexes: tuple[int, ...]
    stop: StopRequest | None = None  # a stop request made during this attempt


@dataclass
class LiveItem:
    """Where a work item of a run with real commands stands (stored: events decide it)."""

    step: int  # the index of the step whose input it is
    state: str  # pending, in_progress, done or failed
    updated: float
    exception: dict[str, str] | None = None
    step_run: str | None = None  # the step run that holds it, or last held it


@dataclass
class LiveStepRun:
    """A step run whose command really runs (runner.py starts it, liveruns.py decides)."""

    id: str
    step: int
    token: str  # Bearer token of its worker-side calls
    created: float
    state: str = "new"
    started: float | None = None
    ended: float | None = None
    error: dict[str, str] | None = None
    console: list[tuple[float, str]] = field(default_factory=list)
    console_characters: int = 0  # of the lines in `console`
    console_full: bool = False  # a line said the rest is not kept
    # id, name, bytes in the spool: what the command left in ROBOT_ARTIFACTS
    artifacts: list[tuple[str, str, StoredFile]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # every item it reserved, in order
    held: list[str] = field(default_factory=list)  # reserved and not yet released
    outputs: list[str] = field(default_factory=list)  # output items it created
    ending: str | None = None  # why the emulator ends its command: "timeout" or "stopped"
    exit_code: int | None = None


@dataclass
class LiveRun:
    """The stored state of a run whose steps are real commands."""

    queues: list[deque[str]]  # per step: the ids of the items waiting for a step run
    items: dict[str, LiveItem] = field(default_factory=dict)
    step_runs: list[LiveStepRun] = field(default_factory=list)
    outputs: list[WorkItem] = field(default_factory=list)  # the last step's, as they come
    ended: float | None = None


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
    # Retries, oldest first; the run's Timeline follows the last one.
    attempts: list[Attempt] = field(default_factory=list)
    deleted_items: set[int] = field(default_factory=set)  # indexes of deleted work items
    live: LiveRun | None = None  # a process whose steps are real commands


@dataclass(frozen=True)
class Timeline:
    started: float | None
    ended: float | None
    outcome: str
    processing_end: float | None  # when items stop moving: natural end or the stop request
    # Added for retries; `started`, `ended` and `outcome` are those of the latest attempt.
    attempt: int = 1  # 1: the run's first processing, 2: after the first retry, ...
    first_started: float | None = None  # when the first attempt started (None: as `started`)


@dataclass(frozen=True)
class ItemView:
    state: str
    updated: float
    exception: dict[str, str] | None


class WorkspaceData:
    """The records of one workspace and the bookkeeping every resource shares."""

    def __init__(
        self,
        workspace_id: str,
        processes: Iterable[Process],
        clock: Clock | None = None,
        stopping_seconds: float = DEFAULT_STOPPING_SECONDS,
        page_size: int = DEFAULT_PAGE_SIZE,
        url_expiry_seconds: float = DEFAULT_EXPIRY_SECONDS,
    ) -> None:
        self.workspace_id = workspace_id
        self.clock = clock or Clock()
        self.stopping_seconds = stopping_seconds
        self.page_size = page_size
        self.url_expiry_seconds = url_expiry_seconds  # of signed download URLs, real time
        self.initial_processes = list(processes)
        self.processes: dict[str, Process] = {}
        self.queues: dict[str, list[WorkItem]] = {}
        self.runs: dict[str, Run] = {}
        self.items: dict[str, WorkItem] = {}
        self.files: dict[str, OutputFile] = {}
        self.item_files: dict[str, tuple[WorkItem, WorkItemFile]] = {}
        self.process_created: dict[str, float] = {}
        self.spool = Spool()  # the bytes of work item files and of commands' artifacts
        self._seq = 0
        for process in self.initial_processes:
            self.define_process(process)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_item(self, process_id: str, payload: Any, now: float) -> WorkItem:
        item = WorkItem(str(uuid.uuid4()), self._next_seq(), process_id, payload, now)
        self.items[item.id] = item
        return item

    def _forget_item(self, item: WorkItem) -> None:
        self.items.pop(item.id, None)
        self._drop_files(item)

    def _drop_files(self, item: WorkItem) -> None:
        """The item's files are gone: their records and their bytes on disk."""
        for file in item.files:
            self.item_files.pop(file.id, None)
            file.discard()

    def define_process(self, process: Process) -> None:
        """Add or replace a process; its input queue is replaced by the new definition's."""
        now = self.clock.now()
        for old in self.queues.get(process.id, []):
            self._forget_item(old)
        self.processes[process.id] = process
        self.process_created.setdefault(process.id, now)
        self.queues[process.id] = [self._new_item(process.id, p, now) for p in process.input_queue]

    def delete_process(self, process_id: str) -> None:
        if process_id not in self.processes:
            raise not_found(f"Process '{process_id}' not found.")
        for old in self.queues.pop(process_id, []):
            self._forget_item(old)
        del self.processes[process_id]
        self.process_created.pop(process_id, None)

    def reset(self, reset_processes: bool = False) -> None:
        """Forget every run, work item and file; optionally restore the initial processes."""
        processes = self.initial_processes if reset_processes else list(self.processes.values())
        self.spool.clear()  # every file's bytes, uploads still arriving included
        self.processes, self.queues, self.runs, self.items, self.files = {}, {}, {}, {}, {}
        self.item_files, self.process_created = {}, {}
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

"""Step runs: the steps of each run, their console messages and artifacts.

Nothing here is stored: a step run is derived from its run's Timeline (runs.py), the
process's steps and the clock, like the run's own state. The steps of a process run one
after another: the run's processing time (``run_seconds``) is split evenly among them. A
step run exists from the moment its step is reached:

- the first step run is created with the process run; it is ``new`` for the first half of
  the run's ``new`` period and ``awaiting_worker`` for the second half, then
  ``in_progress`` when the run starts;
- each later step run is created, and starts (a worker is at hand), when the one before it
  ends;
- a step run ends ``completed``, or ``failed`` with an ``error`` when work items of the run
  end failed: the failing step is the one marked ``fails`` (the last one by default);
- a stop request cuts the run short: the step run in progress then ends with the run
  (``failed`` with ``PROCESS_RUN_STOPPED`` unless the run completes), and steps not reached
  get no step run.

Console messages and artifacts are described in docs/emulator.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO, Any

from . import robotfiles
from .common import ID_NAMESPACE, STOPPED_CODE, bad_request, duration, iso, not_found
from .model import ItemView, Run, Timeline, WorkItem
from .processes import ROBOT_FILES, Artifact, Step
from .runs import Runs
from .spool import StoredFile

DEFAULT_ERROR_CODE = "ROBOT_FAILED"
CHUNK = 64 * 1024
# The generated content of an artifact configured by `size`: a 64 KiB block, repeated.
_PATTERN = b"".join(f"{i:07d} generated artifact content\n".encode() for i in range(2048))[:CHUNK]


@dataclass(frozen=True)
class StepRunView:
    id: str
    run: Run
    index: int
    step: Step
    step_id: str
    created: float
    started: float | None  # None while (or when it never was) started
    ended: float | None  # None until it has ended
    state: str
    updated: float
    error: dict[str, str] | None
    planned_end: float | None  # when its slice of the run ends (None: never, a forever run)
    attempt: int = 1  # 1: of the run's first processing, 2: of its first retry, ...
    awaiting: float | None = None  # when it began to wait for a worker (None: never did)


class StepRuns(Runs):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Step run id -> run id, filled as step runs are derived (their ids never change).
        self._step_run_index: dict[str, str] = {}

    # --- the step runs of a run

    def steps(self, run: Run) -> tuple[Step, ...]:
        return run.process.steps or (Step(name=run.process.name),)

    def step_run_id(self, run: Run, index: int, attempt: int = 1) -> str:
        if attempt == 1:
            return str(uuid.uuid5(ID_NAMESPACE, f"{run.id}/step-run/{index}"))
        return str(uuid.uuid5(ID_NAMESPACE, f"{run.id}/step-run/{index}/attempt/{attempt}"))

    def step_runs(self, run: Run, now: float) -> list[StepRunView]:
        """The step runs of ``run`` that exist at ``now``, in order: those of its first
        processing, then those of each retry, which never reopens an ended step run: the
        retried items run in new step runs of the failing step and of the steps after it."""
        steps = self.steps(run)
        failing = next((i for i, s in enumerate(steps) if s.fails), len(steps) - 1)
        lines = self.attempt_timelines(run)
        first = replace(run, attempts=[]) if run.attempts else run
        views = self._attempt_views(first, lines[0], 0, 1, run.process.run_seconds, now)
        for number, line in enumerate(lines[1:], start=2):
            # The run as it was in this retry: its views and messages follow this attempt.
            attempt_run = (
                run if number == len(lines) else replace(run, attempts=run.attempts[: number - 1])
            )
            attempt = attempt_run.attempts[-1]
            seconds = run.process.run_seconds
            if seconds is not None:
                seconds = seconds * len(attempt.indexes) / len(run.items)
            views += self._attempt_views(attempt_run, line, failing, number, seconds, now)
        for view in views:
            self._step_run_index[view.id] = run.id
        return views

    def _attempt_views(
        self,
        run: Run,
        line: Timeline,
        first: int,
        number: int,
        seconds: float | None,
        now: float,
    ) -> list[StepRunView]:
        """The step runs of one attempt (1: the first processing) from step ``first`` on:
        they share the attempt's processing time (``seconds``), which a stop request may
        cut short."""
        steps = self.steps(run)
        failing = next((i for i, s in enumerate(steps) if s.fails), len(steps) - 1)
        natural_end = None
        if line.started is not None and seconds is not None:
            natural_end = line.started + seconds
        stopped = line.processing_end if self.latest_stop(run) is not None else None
        count = len(steps) - first
        views = []
        for index in range(first, len(steps)):
            position = index - first
            begin: float | None = None
            end: float | None = None
            if line.started is not None and natural_end is not None:
                share = (natural_end - line.started) / count
                begin, end = line.started + share * position, line.started + share * (position + 1)
            elif line.started is not None and position == 0:
                begin = line.started  # a run that never ends: its first step never does
            if position == 0:
                created = run.created if number == 1 else run.attempts[-1].at
            elif begin is None or now < begin or (stopped is not None and begin > stopped):
                break  # not reached (yet, or ever)
            else:
                created = begin
            views.append(
                self._view(
                    run, line, index, steps[index], created, begin, end, failing, now, number
                )
            )
        return views

    def _view(
        self,
        run: Run,
        line: Timeline,
        index: int,
        step: Step,
        created: float,
        begin: float | None,
        end: float | None,
        failing: int,
        now: float,
        attempt: int = 1,
    ) -> StepRunView:
        # Stopped during this step (or before it started): it ends with the run.
        cut_short = end is None or (line.processing_end is not None and end > line.processing_end)
        ended = line.ended if cut_short else end
        error: dict[str, str] | None = None
        started: float | None = None
        if ended is not None and now >= ended:
            if cut_short and line.outcome != "completed":
                error = {"code": STOPPED_CODE}
            elif (
                not cut_short and index == failing and self._ends_with_failures(run, line, attempt)
            ):
                error = {"code": step.error_code or DEFAULT_ERROR_CODE}
            state, updated, started = ("failed" if error else "completed"), ended, begin
        elif begin is not None and now >= begin:
            state, updated, started, ended = "in_progress", begin, begin, None
        else:
            ended = None
            state, updated = "new", created
        # Only the first step run waits for a worker: the second half of the run's `new`
        # period (also when the run is stopped before it starts).
        natural = run.created + run.process.new_seconds if begin is None else begin
        wait = created + (natural - created) / 2
        awaiting = None
        if index == 0 and wait <= min(now, ended if ended is not None else now):
            awaiting = wait
            if state == "new":
                state, updated = "awaiting_worker", wait
        step_id = step.id or str(uuid.uuid5(ID_NAMESPACE, f"{run.process.id}/step/{index}"))
        return StepRunView(
            id=self.step_run_id(run, index, attempt),
            run=run,
            index=index,
            step=step,
            step_id=step_id,
            created=created,
            started=started,
            ended=ended,
            state=state,
            updated=updated,
            error=error,
            planned_end=end,
            attempt=attempt,
            awaiting=awaiting,
        )

    @staticmethod
    def attempt_indexes(run: Run, attempt: int) -> tuple[int, ...]:
        """The items an attempt processes: all in the first, the retried ones in a retry
        (`run` as it was in that attempt)."""
        return tuple(range(len(run.items))) if attempt == 1 else run.attempts[-1].indexes

    def _ends_with_failures(self, run: Run, line: Timeline, attempt: int = 1) -> bool:
        """Whether some work item of the attempt is failed when it ends: then its failing
        step fails (a completed run, also one whose items were retried, has none)."""
        if line.ended is None:
            return False
        return any(
            self.item_view(run, index, line.ended).state == "failed"
            for index in self.attempt_indexes(run, attempt)
        )

    def step_run_json(self, view: StepRunView) -> dict[str, Any]:
        return {
            "id": view.id,
            "state": view.state,
            "state_updated_at": iso(view.updated),
            "error": view.error,
            "started_at": iso(view.started),
            "ended_at": iso(view.ended),
            "duration": duration(view.created, view.started, view.ended),
            "step": {"id": view.step_id, "name": view.step.name},
        }

    def _step_run(self, step_run_id: str, now: float) -> StepRunView:
        """The step run with this id, or 404. Its run is found by the index of the step runs
        listed so far, else by trying every run."""
        known = self._step_run_index.get(step_run_id)
        candidates = [self.runs[known]] if known in self.runs else list(self.runs.values())
        for run in candidates:
            if run.deleted_at is not None:
                continue
            for view in self.step_runs(run, now):
                if view.id == step_run_id:
                    return view
        raise not_found(f"Step run '{step_run_id}' not found.")

    def work_item_json(
        self, item: WorkItem, run: Run | None, index: int, now: float
    ) -> dict[str, Any]:
        """The work item with its ``step`` and ``step_run``: a failed item is at the step
        run that failed, any other item of a run at the run's latest step run."""
        data = super().work_item_json(item, run, index, now)
        if run is not None:
            number = self.latest_attempt(run, index, now)[0]
            views = [v for v in self.step_runs(run, now) if v.attempt == number]
            view = views[-1]
            if data["state"] == "failed":
                view = next((v for v in views if v.state == "failed"), view)
            data["step"] = {"id": view.step_id}
            data["step_run"] = {"id": view.id}
        return data

    # --- the API

    def list_step_runs(
        self, process_run_id: str | None, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a run's step runs, in order. An unknown run has none (as outputs)."""
        if not process_run_id:
            raise bad_request("'process_run_id' is required.")
        run = self.runs.get(process_run_id)
        if run is None or run.deleted_at is not None:
            return [], None
        views = self.step_runs(run, self.clock.now())
        return _slice([self.step_run_json(v) for v in views], limit, cursor)

    def get_step_run(self, step_run_id: str) -> dict[str, Any]:
        return self.step_run_json(self._step_run(step_run_id, self.clock.now()))

    # --- console messages

    def console(self, view: StepRunView, now: float) -> list[tuple[float, str]]:
        """The console messages of a step run that are written by ``now``, oldest first."""
        lines = view.step.console if view.step.console is not None else view.run.process.console
        if view.started is None and view.ended is None:
            return []
        if lines is not None:
            messages = self._configured_console(view, lines)
        else:
            messages = self._default_console(view)
        return [(at, text) for at, text in messages if at <= now]

    def _configured_console(self, view: StepRunView, lines: tuple[str, ...]) -> list[Any]:
        """Spread over the step run's slice of the run (one a second in a run that never
        ends), and written at its end at the latest."""
        begin = view.started if view.started is not None else view.ended
        assert begin is not None
        messages = []
        for i, text in enumerate(lines):
            if view.planned_end is None:
                at = begin + i
            else:
                at = begin + (view.planned_end - begin) * i / max(len(lines), 1)
            if view.ended is not None:
                at = min(at, view.ended)
            messages.append((at, text))
        return messages

    def _default_console(self, view: StepRunView) -> list[tuple[float, str]]:
        run, step = view.run, view.step
        count = len(self.attempt_indexes(run, view.attempt))
        what = f"Step '{step.name}' of process '{run.process.name}'"
        messages: list[tuple[float, str]] = []
        if view.started is not None:
            messages.append((view.started, f"{what} started: {count} work item(s) to process."))
        if view.ended is None:
            return messages
        if view.error is None:
            messages.append((view.ended, f"{what} completed: {count} work item(s) processed."))
            return messages
        failed = self._failed_items(view)
        for item, item_view in failed:
            at = min(max(item_view.updated, view.started or view.ended), view.ended)
            messages.append((at, f"Work item {item.id} failed with {_exception(item_view)}"))
        code = view.error["code"]
        if view.started is None:
            summary = f"{what} failed ({code}): the process run was stopped before it started."
        else:
            summary = f"{what} failed ({code}): {len(failed)} of {count} work item(s) failed."
        messages.append((view.ended, summary))
        messages.sort(key=lambda m: m[0])
        return messages

    def _failed_items(self, view: StepRunView) -> list[tuple[WorkItem, ItemView]]:
        """The run's work items that failed, for the step run that failed: as they end."""
        if view.error is None:
            return []
        line = self.timeline(view.run)
        final = line.ended if line.ended is not None else view.ended
        assert final is not None
        views = (
            (view.run.items[index], self.item_view(view.run, index, final))
            for index in self.attempt_indexes(view.run, view.attempt)
        )
        return [(item, v) for item, v in views if v.state == "failed" and v.exception]

    def list_console_messages(
        self, step_run_id: str, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        now = self.clock.now()
        view = self._step_run(step_run_id, now)
        messages = self.console(view, now)
        start = 0 if cursor is None else cursor
        end = start + limit
        # Only the page is formatted: a command may print 100,000 lines.
        page = [{"timestamp": iso(at), "message": text} for at, text in messages[start:end]]
        return page, (end if end < len(messages) else None)

    def list_events(
        self, step_run_id: str, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The states the step run has entered, oldest first, each with when."""
        view = self._step_run(step_run_id, self.clock.now())
        events = [("new", view.created), ("awaiting_worker", view.awaiting)]
        events += [("in_progress", view.started), (view.state, view.ended)]
        data = [{"timestamp": iso(t), "event_type": kind} for kind, t in events if t is not None]
        return _slice(data, limit, cursor)

    # --- artifacts

    def artifacts(
        self, view: StepRunView, now: float, sizes: bool = True
    ) -> list[tuple[str, Artifact, int]]:
        """``(id, artifact, size)`` of a step run: none until it has ended (sizes -1 when
        not asked for)."""
        if view.ended is None or now < view.ended:
            return []
        configured = view.step.artifacts
        if configured is None:
            configured = view.run.process.artifacts
        if configured is None:
            configured = tuple(Artifact(name, robot=name) for name in ROBOT_FILES)
        result = []
        for index, artifact in enumerate(configured):
            artifact_id = str(uuid.uuid5(ID_NAMESPACE, f"{view.id}/artifact/{index}"))
            size = self._size(view, artifact) if sizes else -1
            result.append((artifact_id, artifact, size))
        return result

    def robot_variant(self, view: StepRunView) -> robotfiles.Variant:
        """Which Robot Framework files an ended step run has: those of a run that failed
        with the failures of its work items, or of one that passed."""
        failures = (f"Work item failed with {_exception(v)}" for _, v in self._failed_items(view))
        return robotfiles.variant(view.state, tuple(dict.fromkeys(failures)))

    def robot_variants(self, step_run_id: str) -> set[robotfiles.Variant]:
        """The Robot Framework files a step run's artifacts need (none until it ends)."""
        now = self.clock.now()
        view = self._step_run(step_run_id, now)
        artifacts = self.artifacts(view, now, sizes=False)
        if not any(artifact.robot for _, artifact, _ in artifacts):
            return set()
        return {self.robot_variant(view)}

    def _size(self, view: StepRunView, artifact: Artifact) -> int:
        if artifact.robot is not None:
            return len(robotfiles.files(self.robot_variant(view))[artifact.robot])
        if artifact.size is not None:
            return artifact.size
        if artifact.stored is not None:
            return artifact.stored.size
        assert artifact.content is not None
        return len(artifact.content)

    def list_artifacts(
        self, step_run_id: str, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        now = self.clock.now()
        view = self._step_run(step_run_id, now)
        data = [
            {"id": artifact_id, "name": artifact.name, "size": size}
            for artifact_id, artifact, size in self.artifacts(view, now)
        ]
        return _slice(data, limit, cursor)

    def _artifact(self, step_run_id: str, artifact_id: str) -> tuple[StepRunView, Artifact, int]:
        now = self.clock.now()
        view = self._step_run(step_run_id, now)
        for found_id, artifact, size in self.artifacts(view, now):
            if found_id == artifact_id:
                return view, artifact, size
        raise not_found(f"Artifact '{artifact_id}' of step run '{step_run_id}' not found.")

    def get_artifact(self, step_run_id: str, artifact_id: str, base_url: str) -> dict[str, Any]:
        """The artifact with a signed download URL that expires (``url_expiry_seconds``)."""
        _, artifact, size = self._artifact(step_run_id, artifact_id)
        path = artifact_path(self.workspace_id, step_run_id, artifact_id)
        url = self.signed_url(base_url, path)
        return {"id": artifact_id, "name": artifact.name, "size": size, "url": url}

    def artifact_content(
        self, step_run_id: str, artifact_id: str
    ) -> tuple[str, int, Iterator[bytes]]:
        """The name, size and content (in chunks) of an artifact, for its download URL."""
        view, artifact, size = self._artifact(step_run_id, artifact_id)
        if artifact.robot is not None:
            content = robotfiles.files(self.robot_variant(view))[artifact.robot]
            return artifact.name, size, iter([content])
        if artifact.size is not None:
            return artifact.name, size, _generated(artifact.size)
        if artifact.stored is not None:
            return artifact.name, size, _read(artifact.stored, artifact_id)
        assert artifact.content is not None
        return artifact.name, size, iter([artifact.content])


def _exception(view: ItemView) -> str:
    assert view.exception is not None
    exception = view.exception
    return f"{exception['type']} exception {exception['code']}: {exception['message']}"


def artifact_path(workspace_id: str, step_run_id: str, artifact_id: str) -> str:
    """The path of an artifact's download URL (signed by the query string)."""
    return f"/_emulator/workspaces/{workspace_id}/step-runs/{step_run_id}/artifacts/{artifact_id}"


def _read(stored: StoredFile, artifact_id: str) -> Iterator[bytes]:
    """The bytes of a file on disk in chunks; opened now, so a delete while it is sent
    does not cut it short."""
    try:
        opened = stored.open()
    except FileNotFoundError:
        raise not_found(f"Artifact '{artifact_id}' not found.") from None
    return _chunks(opened)


def _chunks(opened: IO[bytes]) -> Iterator[bytes]:
    with opened:
        while chunk := opened.read(CHUNK):
            yield chunk


def _generated(size: int) -> Iterator[bytes]:
    for offset in range(0, size, CHUNK):
        yield _PATTERN[: min(CHUNK, size - offset)]


def _slice(
    data: list[dict[str, Any]], limit: int, cursor: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of a list in order; the cursor is the index of the next page's first entry."""
    start = 0 if cursor is None else cursor
    end = start + limit
    return data[start:end], (end if end < len(data) else None)

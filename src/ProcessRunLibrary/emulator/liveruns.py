"""Runs whose steps are real commands: their state is stored and moved by events (a command
started, printed a line, reserved or released an item, exited), not derived from the clock.

Pure Python, no aiohttp: runner.py starts the commands and reports back here; worker.py
answers the calls the commands make. The rules (docs/emulator.md, "Running real robots"):

- step 1's inputs are the run's work items; the outputs a step run creates become inputs of
  the next step when that step run ends (inferred); the last step's outputs are the run's;
- a step run starts with one item of its step's queue reserved (`RC_WORKITEM_ID`) and takes
  more with reserve-next-work-item; up to `parallel` step runs of a step run at once, and a
  new one starts while items wait;
- an item is `done` or `failed` as it is released; one still held when its command exits is
  `done` after exit 0, else `failed` (inferred);
- the run ends when no step run is active and no item waits; `unresolved` if an item failed.
"""

from __future__ import annotations

import secrets
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from .common import ID_NAMESPACE, STOPPED_CODE, ApiError, iso
from .model import (
    ItemView,
    LiveItem,
    LiveRun,
    LiveStepRun,
    Run,
    StopRequest,
    Timeline,
    WorkItem,
)
from .processes import Artifact, Process, Step
from .runner import CommandRunner
from .runs import Runs
from .spool import StoredFile
from .stepruns import DEFAULT_ERROR_CODE, StepRunView

TIMEOUT_CODE = "STEP_RUN_TIMEOUT"
MAX_CONSOLE_LINES = 100_000
MAX_CONSOLE_CHARACTERS = 16 * 1024 * 1024  # of a step run: lines are up to 64 KiB each
NOT_STARTED_CODE = "COMMAND_NOT_STARTED"


class Launcher(Protocol):
    """What starts and ends the commands (runner.CommandRunner)."""

    def launch(self, workspace: Any, run: Run, step_run: LiveStepRun) -> None: ...

    def terminate(self, step_run_id: str) -> None: ...

    def kill_all(self) -> None: ...

    async def close(self) -> None: ...


class LiveRuns(Runs):
    """The live runs' events and views; the Workspace (state.py) sends each run with real
    commands here and any other run to the simulated resources."""

    allow_commands: bool = False  # commands through the admin API (--allow-commands)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.launcher: Launcher = CommandRunner()
        # Told the id of a run whose state moved (callbacks.py listens: a live run's moments
        # are not known in advance).
        self.run_changed: Callable[[str], None] = lambda run_id: None
        super().__init__(*args, **kwargs)
        # Step run token -> (run id, step run id): what a worker-side call may touch.
        self.worker_tokens: dict[str, tuple[str, str]] = {}
        self.live_step_runs: dict[str, tuple[Run, LiveStepRun]] = {}

    # --- definitions -----------------------------------------------------------------------

    def define_process(self, process: Process, from_api: bool = False) -> None:
        """`from_api`: the admin API (and so Define Process), where commands need
        --allow-commands: only whoever starts the emulator decides what it runs."""
        if from_api and process.runs_commands and not self.allow_commands:
            raise ApiError(
                403,
                "forbidden",
                f"Process '{process.id}' has steps with a 'command': the emulator runs "
                "commands defined through the admin API only when started with "
                "--allow-commands (Start Emulator  allow_commands=True).",
            )
        super().define_process(process)

    async def close_commands(self) -> None:
        """End every command: the emulator stops."""
        await self.launcher.close()

    def reset(self, reset_processes: bool = False) -> None:
        self.launcher.kill_all()
        self.worker_tokens.clear()
        self.live_step_runs.clear()
        super().reset(reset_processes)

    # --- starting and moving a run ---------------------------------------------------------

    def begin_live(self, run: Run) -> None:
        """Give a new run of a process with commands its first step runs."""
        steps = run.process.steps
        live = LiveRun(queues=[deque() for _ in steps])
        for item in run.items:
            live.items[item.id] = LiveItem(0, "pending", run.created)
            live.queues[0].append(item.id)
        run.live = live
        self.pump(run)

    def pump(self, run: Run) -> None:
        """Start the step runs that can start; end the run when nothing is left to do."""
        live = run.live
        assert live is not None
        if self.runs.get(run.id) is not run:
            return  # forgotten by a reset: its commands were killed, none starts again
        now = self.clock.now()
        stop = self.latest_stop(run)
        if stop is None:
            for index, step in enumerate(run.process.steps):
                active = sum(1 for s in live.step_runs if s.step == index and s.ended is None)
                while live.queues[index] and active < step.parallel:
                    self._launch(run, index, now)
                    active += 1
        if any(s.ended is None for s in live.step_runs):
            return
        if stop is not None:
            self._settle_queued(run, stop.set_done, stop.reason, now)
        if not any(live.queues) and live.ended is None:
            live.ended = now
            self.run_changed(run.id)

    def _launch(self, run: Run, index: int, now: float) -> None:
        live = run.live
        assert live is not None
        step_run = LiveStepRun(
            id=str(uuid.uuid4()), step=index, token=secrets.token_urlsafe(32), created=now
        )
        live.step_runs.append(step_run)
        self.worker_tokens[step_run.token] = (run.id, step_run.id)
        self.live_step_runs[step_run.id] = (run, step_run)
        self.reserve_next(run, step_run)  # RC_WORKITEM_ID: reserved before it starts
        self.launcher.launch(self, run, step_run)

    def reserve_next(self, run: Run, step_run: LiveStepRun) -> str | None:
        """The next item of the step run's queue, now held by it; None when there is none
        or the run is stopping (a graceful stop gives no further items)."""
        live = run.live
        assert live is not None
        queue = live.queues[step_run.step]
        if not queue or self.latest_stop(run) is not None or step_run.ended is not None:
            return None
        item_id = queue.popleft()
        item = live.items[item_id]
        item.state, item.updated, item.step_run = "in_progress", self.clock.now(), step_run.id
        item.exception = None
        step_run.inputs.append(item_id)
        step_run.held.append(item_id)
        return item_id

    def command_started(self, run: Run, step_run: LiveStepRun) -> None:
        step_run.state, step_run.started = "in_progress", self.clock.now()
        self.run_changed(run.id)

    def console_line(self, step_run: LiveStepRun, text: str) -> None:
        """One line of the command's output; past MAX_CONSOLE_LINES lines or
        MAX_CONSOLE_CHARACTERS characters, one last line says that the rest is not kept
        (memory stays bounded for a chatty command)."""
        if step_run.console_full:
            return
        if len(step_run.console) >= MAX_CONSOLE_LINES:
            note = f"(The emulator keeps the first {MAX_CONSOLE_LINES} lines of a step run.)"
        elif step_run.console_characters + len(text) > MAX_CONSOLE_CHARACTERS:
            note = (
                f"(The emulator keeps the first {MAX_CONSOLE_CHARACTERS} characters of a "
                "step run's console messages.)"
            )
        else:
            step_run.console.append((self.clock.now(), text))
            step_run.console_characters += len(text)
            return
        step_run.console.append((self.clock.now(), note))
        step_run.console_full = True

    def command_exited(
        self,
        run: Run,
        step_run: LiveStepRun,
        exit_code: int | None,
        artifacts: list[tuple[str, StoredFile]],
        not_started: str | None = None,
    ) -> None:
        """The command ended (`exit_code` None: it never started, `not_started` says why):
        the step run ends, the items it still holds are settled, its outputs move on.
        `artifacts` are in the spool already: the step run owns them from now on."""
        live = run.live
        assert live is not None
        if self.runs.get(run.id) is not run or run.deleted_at is not None:
            for _, stored in artifacts:  # forgotten by a reset, or deleted: nothing to keep
                stored.discard()
            if self.runs.get(run.id) is not run:
                return  # forgotten by a reset: so are its items
            artifacts = []
        now = self.clock.now()
        step_run.exit_code = exit_code
        step_run.ended = now
        step_run.artifacts = [
            (str(uuid.uuid5(ID_NAMESPACE, f"{step_run.id}/artifact/{index}")), name, stored)
            for index, (name, stored) in enumerate(artifacts)
        ]
        self.worker_tokens.pop(step_run.token, None)
        stop = self.latest_stop(run)
        failure = self._held_failure(step_run, exit_code, not_started, stop)
        for item_id in step_run.held:
            item = live.items[item_id]
            if failure is None or (step_run.ending == "stopped" and stop and stop.set_done):
                item.state, item.exception = "done", None
            else:
                item.state, item.exception = "failed", dict(failure)
            item.updated = now
        step_run.held.clear()
        code = None
        if not_started is not None:
            code = NOT_STARTED_CODE
        elif step_run.ending == "timeout":
            code = TIMEOUT_CODE
        elif step_run.ending == "stopped":
            code = STOPPED_CODE
        elif exit_code != 0:
            code = run.process.steps[step_run.step].error_code or DEFAULT_ERROR_CODE
        step_run.error = None if code is None else {"code": code}
        step_run.state = "failed" if code else "completed"
        self._pass_outputs(run, step_run, now)
        self.pump(run)

    def _held_failure(
        self,
        step_run: LiveStepRun,
        exit_code: int | None,
        not_started: str | None,
        stop: StopRequest | None,
    ) -> dict[str, str] | None:
        """What an item the command never released fails with (None: it is done)."""
        if not_started is not None:
            return {
                "type": "application",
                "code": NOT_STARTED_CODE,
                "message": f"The command of step run {step_run.id} could not be started: "
                f"{not_started}.",
            }
        if step_run.ending == "timeout":
            return {
                "type": "application",
                "code": TIMEOUT_CODE,
                "message": f"The command of step run {step_run.id} was terminated: it ran "
                "longer than the step's timeout.",
            }
        if step_run.ending == "stopped":
            return _stopped_exception(stop.reason if stop else None)
        if exit_code == 0:
            return None
        return {
            "type": "application",
            "code": DEFAULT_ERROR_CODE,
            "message": f"The command of step run {step_run.id} exited with code {exit_code} "
            "before it released this work item.",
        }

    def _pass_outputs(self, run: Run, step_run: LiveStepRun, now: float) -> None:
        live = run.live
        assert live is not None
        last = step_run.step == len(run.process.steps) - 1
        for item_id in step_run.outputs:
            item = self.items[item_id]
            if last:
                live.outputs.append(item)
                continue
            run.items.append(item)
            live.items[item_id] = LiveItem(step_run.step + 1, "pending", now)
            live.queues[step_run.step + 1].append(item_id)

    def _settle_queued(self, run: Run, set_done: bool, reason: str | None, now: float) -> None:
        """A stopped run: the items that never got a step run are done or failed."""
        live = run.live
        assert live is not None
        for queue in live.queues:
            while queue:
                item = live.items[queue.popleft()]
                item.state, item.updated = ("done" if set_done else "failed"), now
                item.exception = None if set_done else _stopped_exception(reason)

    def stop_live(self, run: Run) -> None:
        """A stop request: no further items; with `terminate_ongoing_activity_runs` the
        commands are terminated."""
        stop = self.latest_stop(run)
        assert run.live is not None and stop is not None
        for step_run in run.live.step_runs:
            if step_run.ended is None and stop.terminate:
                step_run.ending = "stopped"
                self.launcher.terminate(step_run.id)
        self.pump(run)

    def delete_run(self, run_id: str) -> dict[str, Any]:
        """A deleted run's files are gone from disk: its work items' (and the outputs of
        its last step) and its step runs' artifacts. Only an ended run can be deleted, so
        no command still writes them."""
        answer = super().delete_run(run_id)
        run = self.runs[run_id]
        for item in run.items:
            self._drop_files(item)
        if run.live is not None:
            for item in run.live.outputs:
                self._drop_files(item)
            for step_run in run.live.step_runs:
                for _, _, stored in step_run.artifacts:
                    stored.discard()
                step_run.artifacts = []
        return answer

    def retry_live(self, run: Run, indexes: list[int]) -> None:
        """Retried items wait again in their step's queue: a new step run takes them."""
        live = run.live
        assert live is not None
        now = self.clock.now()
        for index in indexes:
            item_id = run.items[index].id
            item = live.items[item_id]
            item.state, item.updated, item.exception = "pending", now, None
            live.queues[item.step].append(item_id)
        live.ended = None
        self.pump(run)

    # --- how a live run looks through the API ----------------------------------------------

    def live_item_view(self, run: Run, index: int, now: float) -> ItemView:
        assert run.live is not None
        item = run.items[index]
        if item.done_at is not None and now >= item.done_at:
            return ItemView("done", item.done_at, None)
        state = run.live.items[item.id]
        return ItemView(state.state, state.updated, state.exception)

    def live_timeline(self, run: Run) -> Timeline:
        live = run.live
        assert live is not None
        starts = [s.started for s in live.step_runs if s.started is not None]
        started = min(starts) if starts else None
        ended = live.ended
        outcome = "unresolved" if ended is None else self._live_outcome(run)
        return Timeline(
            started,
            ended,
            outcome,
            ended,
            attempt=len(run.attempts) + 1,
            first_started=started,
        )

    def _live_outcome(self, run: Run) -> str:
        for index, item in enumerate(run.items):
            if index in run.deleted_items or item.done_at is not None:
                continue
            if self.live_item_view(run, index, self.clock.now()).state == "failed":
                return "unresolved"
        return "completed"

    def live_step_run_views(self, run: Run, now: float) -> list[StepRunView]:
        live = run.live
        assert live is not None
        steps = run.process.steps
        return [_view(run, steps[s.step], s) for s in live.step_runs]

    def live_step_run(self, step_run_id: str) -> LiveStepRun | None:
        found = self.live_step_runs.get(step_run_id)
        return None if found is None else found[1]

    def live_console(self, step_run: LiveStepRun, now: float) -> list[tuple[float, str]]:
        return [(at, text) for at, text in step_run.console if at <= now]

    def live_artifacts(self, step_run: LiveStepRun) -> list[tuple[str, Artifact, int]]:
        if step_run.ended is None:
            return []
        return [
            (artifact_id, Artifact(name, stored=stored), stored.size)
            for artifact_id, name, stored in step_run.artifacts
        ]

    def live_item_place(self, run: Run, item: WorkItem) -> tuple[str, str | None]:
        """The step id and the step run id a work item of a live run is at."""
        assert run.live is not None
        state = run.live.items[item.id]
        return step_id(run.process, state.step), state.step_run

    def live_outputs(self, run: Run, now: float, base_url: str) -> list[dict[str, Any]]:
        assert run.live is not None
        reference = {"process": {"id": run.process.id}, "process_run": {"id": run.id}}
        return [
            {
                "id": item.id,
                "created_at": iso(item.created),
                **reference,
                "payload": item.payload,
                "files": self.files_json(item, base_url),
            }
            for item in run.live.outputs
        ]


def step_id(process: Process, index: int) -> str:
    step = process.steps[index]
    return step.id or str(uuid.uuid5(ID_NAMESPACE, f"{process.id}/step/{index}"))


def _view(run: Run, step: Step, step_run: LiveStepRun) -> StepRunView:
    updated = step_run.ended or step_run.started or step_run.created
    return StepRunView(
        id=step_run.id,
        run=run,
        index=step_run.step,
        step=step,
        step_id=step_id(run.process, step_run.step),
        created=step_run.created,
        started=step_run.started,
        ended=step_run.ended,
        state=step_run.state,
        updated=updated,
        error=step_run.error,
        planned_end=None,
    )


def _stopped_exception(reason: str | None) -> dict[str, str]:
    message = "The process run was stopped."
    if reason:
        message = f"The process run was stopped: {reason}"
    return {"type": "orchestrator", "code": STOPPED_CODE, "message": message}

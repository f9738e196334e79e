"""The emulated workspace: processes, runs, work items, step runs, outputs and the clock.

Pure Python, no aiohttp: every method takes plain values and returns JSON-ready
dictionaries, or raises :class:`ApiError`. A simulated run's state is never stored: it is
derived from the emulated time elapsed since the run was created and from the process's
durations, so no background task is needed and a high clock factor makes everything happen
sooner. A run whose steps are real commands is the exception: its state is stored and moved
by what its commands do (liveruns.py, worker.py; runner.py runs the commands).
"""

from __future__ import annotations

import base64
from typing import Any

from .batch import WorkItemBatch
from .common import iso
from .model import ItemView, Run, Timeline, WorkItem
from .processes import Artifact
from .spool import StoredFile
from .stepruns import StepRuns, StepRunView
from .worker import WorkerSide
from .workitems import WorkItems


class Workspace(StepRuns, WorkItemBatch, WorkerSide):
    """All state of one emulated workspace: one class per resource (runs.py, workitems.py,
    stepruns.py) over the records of model.py. A run whose steps are real commands is
    stored and moved by events (liveruns.py): the methods below send it there."""

    # --- runs with real commands, or simulated ----------------------------------------------

    def item_view(self, run: Run, index: int, now: float) -> ItemView:
        if run.live is not None:
            return self.live_item_view(run, index, now)
        return super().item_view(run, index, now)

    def timeline(self, run: Run) -> Timeline:
        if run.live is not None:
            return self.live_timeline(run)
        return super().timeline(run)

    def step_runs(self, run: Run, now: float) -> list[StepRunView]:
        if run.live is not None:
            views = self.live_step_run_views(run, now)
            for view in views:
                self._step_run_index[view.id] = run.id
            return views
        return super().step_runs(run, now)

    def work_item_json(
        self, item: WorkItem, run: Run | None, index: int, now: float
    ) -> dict[str, Any]:
        if run is None or run.live is None:
            return super().work_item_json(item, run, index, now)
        data = WorkItems.work_item_json(self, item, run, index, now)
        step, step_run = self.live_item_place(run, item)
        data["step"] = {"id": step}
        data["step_run"] = None if step_run is None else {"id": step_run}
        return data

    def console(self, view: StepRunView, now: float) -> list[tuple[float, str]]:
        step_run = self.live_step_run(view.id)
        if step_run is not None:
            return self.live_console(step_run, now)
        return super().console(view, now)

    def artifacts(
        self, view: StepRunView, now: float, sizes: bool = True
    ) -> list[tuple[str, Artifact, int]]:
        step_run = self.live_step_run(view.id)
        if step_run is not None:
            return self.live_artifacts(step_run)
        return super().artifacts(view, now, sizes)

    def _outputs(self, run: Run, now: float, base_url: str) -> list[dict[str, Any]]:
        if run.live is not None:
            return self.live_outputs(run, now, base_url)
        return super()._outputs(run, now, base_url)

    def start_run(self, process_id: str, body: Any) -> dict[str, Any]:
        return self._begun(super().start_run(process_id, body))

    def start_for_integration(self, process_id: str, payload: Any) -> dict[str, Any]:
        return self._begun(super().start_for_integration(process_id, payload))

    def _begun(self, answer: dict[str, Any]) -> dict[str, Any]:
        if answer["started"]:
            run = self.runs[answer["id"]]
            if run.process.runs_commands:
                self.begin_live(run)
        return answer

    def stop_run(self, run_id: str, body: Any) -> dict[str, Any]:
        answer = super().stop_run(run_id, body)
        run = self.runs[run_id]
        if answer["accepted"] and run.live is not None:
            self.stop_live(run)
        return answer

    def run_batch_operation(self, body: Any) -> tuple[dict[str, Any], list[str]]:
        answer, moved = super().run_batch_operation(body)
        if body.get("batch_operation") == "retry":
            for item_id in dict.fromkeys(body["work_item_ids"]):
                _item, run, index = self._locate(item_id)
                if run is not None and run.live is not None:
                    self.retry_live(run, [index])
                    if run.id not in moved:
                        moved.append(run.id)
        return answer, moved

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
                            "deleted": i in run.deleted_items,
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
                    "retries": [
                        {
                            "at": iso(attempt.at),
                            "work_item_ids": [run.items[i].id for i in attempt.indexes],
                        }
                        for attempt in run.attempts
                    ],
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

    def work_items_json(
        self, process_id: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The admin view of the work items (not deleted ones), oldest first: with their
        payloads, the number of their latest attempt and the content of their files."""
        now = self.clock.now()
        result = []
        for item, run, index in self._all_items():
            if process_id is not None and item.process_id != process_id:
                continue
            if run_id is not None and (run is None or run.id != run_id):
                continue
            data = self.work_item_json(item, run, index, now)
            result.append(
                {
                    "id": item.id,
                    "process_id": item.process_id,
                    "process_run_id": None if run is None else run.id,
                    "state": data["state"],
                    "exception": data["exception"],
                    "attempt": 1 if run is None else self.latest_attempt(run, index, now)[0],
                    "payload": item.payload,
                    "files": [_file_json(f.name, f.size, f.stored) for f in item.files],
                }
            )
        return result


def _file_json(name: str, size: int, stored: StoredFile | None) -> dict[str, Any]:
    """The admin view of a file: its bytes are read from disk for this answer only."""
    data: dict[str, Any] = {"name": name, "size": size, "uploaded": stored is not None}
    if stored is not None:
        content = stored.read()
        try:
            data["content"] = content.decode("utf-8")
        except UnicodeDecodeError:
            data["content_base64"] = base64.b64encode(content).decode()
    return data

"""The emulated workspace: processes, runs, work items, step runs, outputs and the clock.

Pure Python, no aiohttp: every method takes plain values and returns JSON-ready
dictionaries, or raises :class:`ApiError`. A run's state is never stored: it is derived from
the emulated time elapsed since the run was created and from the process's durations, so no
background task is needed and a high clock factor makes everything happen sooner.
"""

from __future__ import annotations

from typing import Any

from .common import iso
from .runs import Runs
from .stepruns import StepRuns


class Workspace(StepRuns, Runs):
    """All state of one emulated workspace: one class per resource (runs.py, workitems.py,
    stepruns.py) over the records of model.py."""

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

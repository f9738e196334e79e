"""Work items: where each one stands in its run, and the listing."""

from __future__ import annotations

from typing import Any

from .common import STOPPED_CODE, WORK_ITEM_STATES, bad_request, iso, page
from .model import ItemView, Run, WorkItem, WorkspaceData


class WorkItems(WorkspaceData):
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
        return page(matching, limit, lambda e: e[0].seq, lambda e: e[1])

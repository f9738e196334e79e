"""runWorkItemBatchOperation: retry, mark as done or delete work items, and what that does
to their runs (Control Room: a run "is considered Complete when all the failed work items
are retried successfully or resolved by the user")."""

from __future__ import annotations

from typing import Any

from .common import ENDED_STATES, bad_request, conflict
from .model import Attempt, Run, WorkItem
from .runs import Runs

BATCH_OPERATIONS = ("retry", "delete", "mark_as_done")


class WorkItemBatch(Runs):
    def run_batch_operation(self, body: Any) -> tuple[dict[str, Any], list[str]]:
        """Validate every id first, then apply: all or nothing. Returns the answer and the
        ids of the runs whose state changed (their callbacks have news)."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        operation = body.get("batch_operation")
        if operation not in BATCH_OPERATIONS:
            raise bad_request(f"'batch_operation' must be one of {', '.join(BATCH_OPERATIONS)}.")
        ids = body.get("work_item_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_request("'work_item_ids' is required and must be a list of strings.")
        now = self.clock.now()
        found = [self._locate(item_id) for item_id in dict.fromkeys(ids)]
        for item, run, index in found:
            self._check_operable(operation, item, run, index, now)
        changed: dict[str, Run] = {}
        before = {run.id: self.run_state(run, now) for _, run, _ in found if run is not None}
        for item, run, index in found:
            if run is None:  # delete, checked above
                self.queues[item.process_id].remove(item)
                self._forget_item(item)
                continue
            changed[run.id] = run
            if operation == "delete":
                run.deleted_items.add(index)
                self._forget_item(item)
            elif operation == "mark_as_done":
                item.done_at = now
        if operation == "retry":
            for run in changed.values():
                indexes = tuple(index for _, r, index in found if r is run)
                run.attempts.append(Attempt(at=now, indexes=tuple(sorted(indexes))))
        moved = [
            run_id for run_id, run in changed.items() if self.run_state(run, now) != before[run_id]
        ]
        return {"accepted": True}, moved

    def _check_operable(
        self, operation: str, item: WorkItem, run: Run | None, index: int, now: float
    ) -> None:
        if run is None:
            if operation != "delete":
                raise conflict(
                    f"Work item '{item.id}' is new (waiting in the input queue of process "
                    f"'{item.process_id}'): only failed work items can be retried or marked "
                    "as done."
                )
            return
        state = self.item_view(run, index, now).state
        if operation == "delete":
            if state not in ("new", "failed", "done"):
                raise conflict(
                    f"Work item '{item.id}' is {state}: only new, failed or done work items "
                    "can be deleted."
                )
            return
        if state != "failed":
            verb = "retried" if operation == "retry" else "marked as done"
            raise conflict(
                f"Work item '{item.id}' is {state}: only failed work items can be {verb}."
            )
        run_state = self.run_state(run, now)
        if run_state not in ENDED_STATES:
            raise conflict(
                f"Work item '{item.id}' belongs to process run '{run.id}', which is {run_state}: "
                f"failed work items can be {'retried' if operation == 'retry' else 'marked as done'} "
                "once their run has ended."
            )

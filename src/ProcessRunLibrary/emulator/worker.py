"""The worker-side API's state operations: what a step run's command may do to its work
items, as robocorp-workitems and rpaframework's RPA.Robocorp.WorkItems call it from inside a
run (json-v1: payloads and files; process-v1: reserve, release, create output).

A step run's token opens its own calls only: reserve and release of its own step run, and
the items it reserved (its inputs) or created (its outputs). Pure Python: the HTTP side is
server/api/worker.py."""

from __future__ import annotations

from typing import Any

from .common import EXCEPTION_TYPES, announced_file, bad_request, conflict, forbidden, not_found
from .liveruns import LiveRuns
from .model import LiveItem, LiveStepRun, Run, WorkItem, WorkItemFile

RELEASE_STATES = {"COMPLETED": "done", "FAILED": "failed"}


class WorkerSide(LiveRuns):
    def grant(self, token: str) -> tuple[Run, LiveStepRun] | None:
        """The step run in progress that `token` belongs to (None: no such step run, or it
        has ended: its token ended with it)."""
        found = self.worker_tokens.get(token)
        if found is None:
            return None
        run_id, step_run_id = found
        run, step_run = self.live_step_runs[step_run_id]
        if run.id != run_id or run.deleted_at is not None:
            return None
        return run, step_run

    def check_step_run(
        self, run: Run, step_run: LiveStepRun, process_id: str, run_id: str, step_run_id: str
    ) -> None:
        if (process_id, run_id, step_run_id) != (run.process.id, run.id, step_run.id):
            raise forbidden(
                f"This token is of step run '{step_run.id}' of process run '{run.id}' "
                f"(process '{run.process.id}'): it opens no other step run."
            )

    def _own_item(self, step_run: LiveStepRun, item_id: str) -> WorkItem:
        if item_id not in step_run.inputs and item_id not in step_run.outputs:
            raise forbidden(
                f"Work item '{item_id}' is not an input or output of step run "
                f"'{step_run.id}': its token opens only those."
            )
        item = self.items.get(item_id)
        if item is None:  # deleted since
            raise not_found(f"Work item '{item_id}' not found.")
        return item

    # --- process-v1 --------------------------------------------------------------------------

    def worker_reserve(self, run: Run, step_run: LiveStepRun) -> dict[str, Any]:
        return {"workItemId": self.reserve_next(run, step_run)}

    def worker_release(self, run: Run, step_run: LiveStepRun, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        item_id = body.get("workItemId")
        if not isinstance(item_id, str) or not item_id:
            raise bad_request("'workItemId' is required and must be a string.")
        state = body.get("state")
        if state not in RELEASE_STATES:
            raise bad_request("'state' must be COMPLETED or FAILED.")
        exception = _exception(body.get("exception"), state)
        self._own_item(step_run, item_id)
        if item_id not in step_run.inputs:
            raise conflict(
                f"Work item '{item_id}' is an output of step run '{step_run.id}': it releases "
                "only the items it reserved."
            )
        if item_id not in step_run.held:
            raise conflict(
                f"Work item '{item_id}' was released already by step run '{step_run.id}'."
            )
        assert run.live is not None
        item: LiveItem = run.live.items[item_id]
        item.state, item.exception = RELEASE_STATES[state], exception
        item.updated = self.clock.now()
        step_run.held.remove(item_id)
        return {"workItemId": item_id, "state": state}

    def worker_output(
        self, run: Run, step_run: LiveStepRun, parent_id: str, body: Any
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        if parent_id not in step_run.inputs:
            raise forbidden(
                f"Work item '{parent_id}' is not an input of step run '{step_run.id}': "
                "outputs are created for its own inputs only."
            )
        item = self._new_item(run.process.id, body.get("payload"), self.clock.now())
        step_run.outputs.append(item.id)
        return {"id": item.id}

    # --- json-v1 -------------------------------------------------------------------------------

    def worker_payload(self, step_run: LiveStepRun, item_id: str) -> Any:
        item = self._own_item(step_run, item_id)
        if item.payload is None:
            # What the libraries read as "no payload" ({}).
            raise not_found(f"Work item '{item_id}' has no payload.")
        return item.payload

    def worker_set_payload(self, step_run: LiveStepRun, item_id: str, payload: Any) -> Any:
        item = self._own_item(step_run, item_id)
        item.payload = payload
        item.payload_updated = self.clock.now()
        return payload

    def worker_files(self, step_run: LiveStepRun, item_id: str) -> list[dict[str, Any]]:
        item = self._own_item(step_run, item_id)
        return [
            {"fileId": f.id, "fileName": f.name, "fileSize": f.size}
            for f in item.files
            if f.uploaded
        ]

    def worker_announce(
        self, step_run: LiveStepRun, item_id: str, body: Any, base_url: str
    ) -> dict[str, Any]:
        """A new file: `{"url", "fields"}` (a presigned POST as S3 gives it). A file of the
        same name is replaced (inferred: names are unique within an item)."""
        item = self._own_item(step_run, item_id)
        name, size = announced_file(body, "fileName", "fileSize")
        for old in [f for f in item.files if f.name == name]:
            self.remove_file(item, old)
        upload = self.announce_file(item, name, size, base_url)
        return {"url": upload["url"], "fields": upload["form_data"]}

    def _own_file(self, step_run: LiveStepRun, item_id: str, file_id: str) -> WorkItemFile:
        item = self._own_item(step_run, item_id)
        for file in item.files:
            if file.id == file_id and file.uploaded:
                return file
        raise not_found(f"File '{file_id}' of work item '{item_id}' not found.")

    def worker_file_url(
        self, step_run: LiveStepRun, item_id: str, file_id: str, base_url: str
    ) -> dict[str, Any]:
        file = self._own_file(step_run, item_id, file_id)
        return {"url": self.download_url(file, base_url)}

    def worker_delete_file(
        self, step_run: LiveStepRun, item_id: str, file_id: str
    ) -> dict[str, Any]:
        file = self._own_file(step_run, item_id, file_id)
        self.remove_file(self._own_item(step_run, item_id), file)
        return {"fileId": file_id, "deleted": True}


def _exception(value: Any, state: str) -> dict[str, str] | None:
    """A release's exception as the API shows it: `type` in lower case; a FAILED release
    without one fails `unspecified`."""
    if state == "COMPLETED":
        return None
    if value is None:
        value = {}
    if not isinstance(value, dict) or not all(
        isinstance(v, str) for v in value.values() if v is not None
    ):
        raise bad_request("'exception' must be an object of strings: type, code, message.")
    kind = (value.get("type") or "unspecified").lower()
    if kind not in EXCEPTION_TYPES:
        raise bad_request(
            f"'exception.type' must be one of {', '.join(t.upper() for t in EXCEPTION_TYPES)}."
        )
    return {"type": kind, "code": value.get("code") or "", "message": value.get("message") or ""}

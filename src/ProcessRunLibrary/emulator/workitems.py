"""Work items: where each one stands in its run (retries included), the listing, and the
operations on one work item: create, get, files (announce, upload, download), payload."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from . import signing
from .common import (
    STOPPED_CODE,
    WORK_ITEM_STATES,
    ApiError,
    announced_file,
    bad_request,
    iso,
    not_found,
    page,
)
from .model import Attempt, ItemView, Run, StopRequest, WorkItem, WorkItemFile, WorkspaceData
from .processes import Process
from .spool import Incoming

UPLOAD_PATH = "/_emulator/uploads/{id}"
DOWNLOAD_PATH = "/_emulator/work-item-files/{id}"
UPLOAD_FIELDS = ("key", "expires", "signature")  # the form fields of an upload, in order
EDITABLE_STATES = ("new", "failed", "done")  # a payload can be updated in these states


def _attempt_end(process: Process, index: int, number: int, end: float) -> ItemView:
    """How attempt `number` (1: the run's first processing) of the item at `index` ends:
    the process's exception for that item fails it while the process fails that attempt
    (`failing_attempts`, never fewer than 1; None: every attempt)."""
    failures = process.exceptions()
    limit = process.failing_attempts
    if index < len(failures) and (limit is None or number <= limit):
        return ItemView("failed", end, dict(failures[index]))
    return ItemView("done", end, None)


class WorkItems(WorkspaceData):
    url_expiry_seconds: float = signing.DEFAULT_EXPIRY_SECONDS

    # --- where an item stands ------------------------------------------------------------

    def _natural_item(self, run: Run, index: int, now: float) -> ItemView:
        """The item's state in the run's first attempt, had the run not been stopped."""
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
            return _attempt_end(process, index, 1, end)
        if now >= begin:
            return ItemView("in_progress", begin, None)
        return ItemView("pending", run.created, None)

    def _retried_item(
        self, run: Run, attempt: Attempt, number: int, index: int, now: float
    ) -> ItemView:
        """The item's state in a retry (attempt `number`, 2 for the first retry): the
        retried items are processed one after the other from the retry on, each for the
        same share of `run_seconds` as in the first attempt."""
        process = run.process
        position = attempt.indexes.index(index)
        if process.run_seconds is None:
            if position == 0:
                return ItemView("in_progress", attempt.at, None)
            return ItemView("pending", attempt.at, None)
        share = process.run_seconds / len(run.items)
        begin = attempt.at + share * position
        end = begin + share
        if now >= end:
            return _attempt_end(process, index, number, end)
        if now >= begin:
            return ItemView("in_progress", begin, None)
        return ItemView("pending", attempt.at, None)

    def _stopped(
        self, stop: StopRequest | None, view_at: Callable[[float], ItemView], now: float
    ) -> ItemView:
        """The view `view_at` gives, changed by a stop request."""
        if stop is None or now < stop.at:
            return view_at(now)
        at_stop = view_at(stop.at)
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

    def latest_attempt(self, run: Run, index: int, now: float) -> tuple[int, Attempt | None]:
        """The number of the item's latest attempt (1: the run's first processing) and the
        retry it belongs to (None for the first attempt)."""
        number, latest = 1, None
        for attempt in run.attempts:
            if attempt.at <= now and index in attempt.indexes:
                number, latest = number + 1, attempt
        return number, latest

    def item_view(self, run: Run, index: int, now: float) -> ItemView:
        item = run.items[index]
        if item.done_at is not None and now >= item.done_at:
            return ItemView("done", item.done_at, None)
        number, attempt = self.latest_attempt(run, index, now)
        if attempt is None:
            return self._stopped(run.stop, lambda t: self._natural_item(run, index, t), now)
        retry = attempt
        return self._stopped(
            retry.stop, lambda t: self._retried_item(run, retry, number, index, t), now
        )

    # --- answers -------------------------------------------------------------------------

    def work_item_json(
        self, item: WorkItem, run: Run | None, index: int, now: float
    ) -> dict[str, Any]:
        """The work item as WorkItemWithoutDataResource."""
        if run is None:
            view = ItemView("new", item.payload_updated or item.created, None)
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

    def work_item_data_json(
        self, item: WorkItem, run: Run | None, index: int, now: float, base_url: str
    ) -> dict[str, Any]:
        """The work item as WorkItemResource: with its payload and uploaded files."""
        data = self.work_item_json(item, run, index, now)
        data["payload"] = item.payload
        data["files"] = self.files_json(item, base_url)
        return data

    def files_json(self, item: WorkItem, base_url: str) -> list[dict[str, Any]]:
        """The uploaded files of a work item, each with a signed download URL."""
        return [
            {
                "id": file.id,
                "size": file.size,
                "name": file.name,
                "download": {"url": self.download_url(file, base_url)},
            }
            for file in item.files
            if file.uploaded
        ]

    def download_url(self, file: WorkItemFile, base_url: str) -> str:
        path = DOWNLOAD_PATH.format(id=file.id)
        return f"{base_url}{path}?{signing.sign(path, self.url_expiry_seconds)}"

    def _all_items(self) -> list[tuple[WorkItem, Run | None, int]]:
        found: list[tuple[WorkItem, Run | None, int]] = []
        for queue in self.queues.values():
            found.extend((item, None, 0) for item in queue)
        for run in self.runs.values():
            if run.deleted_at is None:
                found.extend(
                    (item, run, i) for i, item in enumerate(run.items) if i not in run.deleted_items
                )
        found.sort(key=lambda entry: entry[0].seq)
        return found

    def _locate(self, item_id: str) -> tuple[WorkItem, Run | None, int]:
        """The work item, the run it belongs to (None: it waits in an input queue) and its
        index in the run. Items of deleted runs and deleted items are not found."""
        for queue in self.queues.values():
            for item in queue:
                if item.id == item_id:
                    return item, None, 0
        for run in self.runs.values():
            if run.deleted_at is not None:
                continue
            for index, item in enumerate(run.items):
                if item.id == item_id and index not in run.deleted_items:
                    return item, run, index
        raise not_found(f"Work item '{item_id}' not found.")

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

    # --- operations ----------------------------------------------------------------------

    def list_processes(
        self, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of processes in the order they were defined; the cursor is a position."""
        processes = list(self.processes.values())
        start = 0 if cursor is None else cursor
        data = [
            {"id": p.id, "name": p.name, "created_at": iso(self.process_created[p.id])}
            for p in processes[start : start + limit]
        ]
        more = start + limit < len(processes)
        return data, (start + limit if more else None)

    def create_work_item(self, body: Any, base_url: str) -> dict[str, Any]:
        """createWorkItem: a new item with `payload` in the input queue of `process.id`."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        process = body.get("process")
        if not isinstance(process, dict) or not isinstance(process.get("id"), str):
            raise bad_request("'process' is required and must be an object with an 'id' string.")
        if "payload" not in body:
            raise bad_request("'payload' is required (any JSON value, or null).")
        process_id = process["id"]
        if process_id not in self.processes:
            raise bad_request(f"Process '{process_id}' not found.")
        now = self.clock.now()
        item = self._new_item(process_id, body["payload"], now)
        self.queues[process_id].append(item)
        return self.work_item_data_json(item, None, 0, now, base_url)

    def add_input_work_item(
        self, process_id: str, payload: Any, files: list[tuple[str, bytes]]
    ) -> WorkItem:
        """For the admin API: a queued item with files that are uploaded already (their
        bytes go to disk, as an upload's do)."""
        self._process(process_id)
        now = self.clock.now()
        item = self._new_item(process_id, payload, now)
        for name, content in files:
            file = self._new_file(item, name, len(content), now)
            file.stored = self.spool.store(content)
        self.queues[process_id].append(item)
        return item

    def copy_item(self, item: WorkItem, process_id: str, now: float) -> WorkItem:
        """A new work item with the payload and the uploaded files of `item`. Each copy
        owns its bytes on disk (a hard link): deleting one item leaves the other's."""
        copy = self._new_item(process_id, item.payload, now)
        for file in item.files:
            if file.stored is not None:
                self._new_file(copy, file.name, file.size, now).stored = self.spool.copy(
                    file.stored
                )
        return copy

    def get_work_item(self, item_id: str, base_url: str) -> dict[str, Any]:
        item, run, index = self._locate(item_id)
        return self.work_item_data_json(item, run, index, self.clock.now(), base_url)

    def update_work_item_payload(self, item_id: str, body: Any) -> dict[str, Any]:
        """updateWorkItemPayload: a missing `payload` makes it `{}` (the schema does not
        require it); null is refused (its schema, anyValidJson, is not nullable, and the
        answer's is not either). Items that are pending or in progress cannot be updated."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        if "payload" in body and body["payload"] is None:
            raise bad_request("'payload' must be a JSON value other than null.")
        item, run, index = self._locate(item_id)
        now = self.clock.now()
        state = "new" if run is None else self.item_view(run, index, now).state
        if state not in EDITABLE_STATES:
            raise bad_request(
                f"Work item '{item_id}' is {state}: only the payload of a new, failed or done "
                "work item can be updated."
            )
        item.payload = body.get("payload", {})
        item.payload_updated = now
        return {"payload": item.payload}

    def _new_file(self, item: WorkItem, name: str, size: int, now: float) -> WorkItemFile:
        file_id = str(uuid.uuid4())
        key = f"{self.workspace_id}/{item.id}/{file_id}/{name}"
        file = WorkItemFile(file_id, name, size, key, now)
        item.files.append(file)
        self.item_files[file_id] = (item, file)
        return file

    def create_work_item_file(self, item_id: str, body: Any, base_url: str) -> dict[str, Any]:
        """createWorkItemFile: announce a file; answers where and how to upload it, as an
        S3 presigned POST: `{"url", "form_data"}` (the caller wraps it for the newer form)."""
        name, size = announced_file(body, "file_name", "file_size")
        item, _, _ = self._locate(item_id)
        return self.announce_file(item, name, size, base_url)

    def announce_file(self, item: WorkItem, name: str, size: int, base_url: str) -> dict[str, Any]:
        """A new file of `item` and where to upload it: `{"url", "form_data"}`."""
        file = self._new_file(item, name, size, self.clock.now())
        path = UPLOAD_PATH.format(id=file.id)
        expires, signature = _sign_upload(path, file.key, self.url_expiry_seconds)
        return {
            "url": f"{base_url}{path}",
            "form_data": {"key": file.key, "expires": expires, "signature": signature},
        }

    def remove_file(self, item: WorkItem, file: WorkItemFile) -> None:
        item.files.remove(file)
        self.item_files.pop(file.id, None)
        file.discard()

    def check_upload(self, file_id: str, fields: Mapping[str, str]) -> WorkItemFile:
        """Whether an upload's form fields are the ones createWorkItemFile gave, signed and
        not expired. Raises ApiError (400 or 403); returns the file to store the bytes in."""
        entry = self.item_files.get(file_id)
        if entry is None:
            raise not_found(f"Upload '{file_id}' not found.")
        missing = [name for name in UPLOAD_FIELDS if name not in fields]
        if missing:
            raise bad_request(f"The upload lacks the form field(s) {', '.join(missing)}.")
        extra = sorted(set(fields) - set(UPLOAD_FIELDS))
        if extra:
            raise bad_request(f"Unexpected form field(s) {', '.join(extra)} in the upload.")
        file = entry[1]
        path = UPLOAD_PATH.format(id=file_id)
        why = signing.check(f"{path}\n{fields['key']}", fields)
        if why is not None:
            raise ApiError(403, "forbidden", why)
        return file

    def store_upload(self, file: WorkItemFile, incoming: Incoming) -> None:
        """Keep the bytes spooled for `file`: they replace any uploaded before. A file
        deleted (or reset) while its bytes arrived is not brought back."""
        size = incoming.file.tell()
        if size != file.size:
            raise bad_request(
                f"The file has {size} bytes; createWorkItemFile announced {file.size}."
            )
        entry = self.item_files.get(file.id)
        if entry is None or entry[1] is not file:
            raise not_found(f"Upload '{file.id}' not found.")
        file.discard()
        file.stored = incoming.keep()

    def downloadable(self, file_id: str, query: Mapping[str, str]) -> WorkItemFile:
        """The uploaded file a signed download URL points to. Raises ApiError (403, 404)."""
        why = signing.check(DOWNLOAD_PATH.format(id=file_id), query)
        if why is not None:
            raise ApiError(403, "forbidden", why)
        entry = self.item_files.get(file_id)
        if entry is None or entry[1].stored is None:
            raise not_found(f"File '{file_id}' not found.")
        return entry[1]


def _sign_upload(path: str, key: str, expires_in: float) -> tuple[str, str]:
    query = dict(
        part.split("=", 1) for part in signing.sign(f"{path}\n{key}", expires_in).split("&")
    )
    return query["expires"], query["signature"]

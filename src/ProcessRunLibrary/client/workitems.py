"""Work items: list, read, create (with files), update and the batch operations."""

from __future__ import annotations

from collections.abc import Sequence

from ..checks import path_segment
from .transport import JSON, Transport
from .uploads import UploadFile, upload_presigned_post

BATCH_OPERATIONS = ("retry", "mark_as_done", "delete")


class WorkItems(Transport):
    def list_work_items(
        self,
        process_id: str | None = None,
        process_run_id: str | None = None,
        state: str | None = None,
        limit: int | None = None,
    ) -> list[JSON]:
        """Work items (``listWorkItems``) filtered on the server, all pages followed."""
        params = {
            "process_id": _query_id("process_id", process_id),
            "process_run_id": _query_id("process_run_id", process_run_id),
            "state": state,
        }
        return self.list("/work-items", params, limit)

    def get_work_item(self, work_item_id: str) -> JSON:
        item = path_segment("work_item_id", work_item_id)
        return self.request("GET", f"/work-items/{item}", params={"include_data": "true"})

    def create_work_item(self, process_id: str, payload: JSON) -> JSON:
        body = {"process": {"id": _query_id("process_id", process_id)}, "payload": payload}
        return self.request("POST", "/work-items", json=body)

    def add_work_item_file(self, work_item_id: str, file: UploadFile) -> None:
        """Announce the file (``createWorkItemFile``), then upload it where Control Room says."""
        item = path_segment("work_item_id", work_item_id)
        answer = self.request(
            "POST",
            f"/work-items/{item}/files",
            json={"file_name": file.name, "file_size": file.size},
        )
        # spec/generated answers {upload: {url, form_data}}; the 2023-10-19 document
        # answered {url, form_data} at .../files/upload.
        upload = answer.get("upload") if isinstance(answer, dict) else None
        shown = f"{self.workspace_url[len(self.api_url) :]}/work-items/{item}/files"
        upload_presigned_post(self, shown, upload or answer, file)

    def update_work_item_payload(self, work_item_id: str, payload: JSON) -> JSON:
        item = path_segment("work_item_id", work_item_id)
        return self.request("POST", f"/work-items/{item}/payload", json={"payload": payload})

    def work_item_batch(self, operation: str, work_item_ids: Sequence[str]) -> JSON:
        """``runWorkItemBatchOperation``: ``retry``, ``mark_as_done`` or ``delete``."""
        if operation not in BATCH_OPERATIONS:
            raise ValueError(f"unknown batch operation {operation!r}")
        ids = [_query_id("work_item_ids", i) for i in work_item_ids]
        body = {"batch_operation": operation, "work_item_ids": ids}
        return self.request("POST", "/work-items/batch", json=body)


def _query_id(name: str, value: str | None) -> str | None:
    """An id checked like a path segment, sent as it is (the query or body encodes it)."""
    if value is not None:
        path_segment(name, value)
    return value

"""Work items: list, read, create (with files), update and the batch operations."""

from __future__ import annotations

from ..types import path_segment
from .transport import JSON, Transport


class WorkItems(Transport):
    def list_work_items(
        self, process_run_id: str, state: str | None = None, limit: int | None = None
    ) -> list[JSON]:
        params = {"process_run_id": path_segment("process_run_id", process_run_id), "state": state}
        return self.list("/work-items", params, limit)

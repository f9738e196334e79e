"""Process runs: start, read, list, stop and delete them, and list their outputs."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from .. import masking
from ..checks import path_segment
from .transport import JSON, Transport

# Control Room publishes neither the default nor the largest page size; the watcher's
# lists have always asked for 100, so full listings do too (the emulator's default is 20).
LIST_PAGE_SIZE = 100

# What the answers must hold (see Transport.request's expect).
RUN = {"id": "string", "state": "string"}
STARTED = {"started": "boolean", "id": "string or null"}
STOPPED = {"accepted": "boolean or null"}


class ProcessRuns(Transport):
    def get_process_run(
        self, process_run_id: str, timeout: float | None = None, quiet: bool = False
    ) -> JSON:
        run = path_segment("process_run_id", process_run_id)
        return self.request("GET", f"/process-runs/{run}", timeout=timeout, quiet=quiet, expect=RUN)

    def list_process_runs(
        self,
        process_id: str | None = None,
        state: str | None = None,
        limit: int | None = None,
        quiet: bool = False,
    ) -> list[JSON]:
        """Runs newest first, at most ``limit``, in pages of up to ``LIST_PAGE_SIZE`` runs
        (``limit`` itself when smaller): reading stops as soon as ``limit`` runs are read."""
        params = {"process_id": process_id, "state": state}
        page_size = min(limit or LIST_PAGE_SIZE, LIST_PAGE_SIZE)
        return list(islice(self.pages("/process-runs", params, page_size, quiet=quiet), limit))

    def iter_process_runs(
        self, process_id: str | None = None, page_size: int = 100, timeout: float | None = None
    ) -> Iterator[JSON]:
        """Runs newest first, page by page, logged at DEBUG: the caller decides when to stop."""
        params = {"process_id": process_id}
        return self.pages("/process-runs", params, page_size, quiet=True, timeout=timeout)

    def list_outputs(self, process_run_id: str, limit: int | None = None) -> list[JSON]:
        params = {"process_run_id": path_segment("process_run_id", process_run_id)}
        return self.list("/outputs", params, limit)

    def start_process_run(self, process_id: str, body: JSON | None = None) -> JSON:
        process = path_segment("process_id", process_id)
        return self.request(
            "POST",
            f"/processes/{process}/process-runs",
            json=body,
            starts_run=True,
            expect=STARTED,
        )

    def start_process_run_for_integration(
        self, process_id: str, payload: JSON, token: str, with_handshake: str | None = None
    ) -> JSON:
        process = path_segment("process_id", process_id)
        masking.register(token)
        params = {"token": token, "with_handshake": with_handshake}
        return self.request(
            "POST",
            f"/processes/{process}/process-runs-integrations",
            params=params,
            json=payload,
            authorize=False,
            starts_run=True,
            expect=STARTED,
        )

    def stop_process_run(
        self,
        process_run_id: str,
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing_activity_runs: bool = False,
        reason: str | None = None,
    ) -> JSON:
        run = path_segment("process_run_id", process_run_id)
        body: dict[str, Any] = {
            "set_remaining_work_items_as_done": set_remaining_work_items_as_done,
            "terminate_ongoing_activity_runs": terminate_ongoing_activity_runs,
        }
        if reason is not None:
            body["reason"] = reason
        return self.request("POST", f"/process-runs/{run}/stop", json=body, expect=STOPPED)

    def delete_process_run(self, process_run_id: str) -> JSON:
        run = path_segment("process_run_id", process_run_id)
        return self.request("DELETE", f"/process-runs/{run}")

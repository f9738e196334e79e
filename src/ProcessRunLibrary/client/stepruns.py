"""Step runs: list and read them, their console messages and their artifacts."""

from __future__ import annotations

from collections.abc import Iterator

from ..checks import path_segment
from ..errors import ControlRoomError
from .transport import JSON, Transport


class StepRuns(Transport):
    def list_step_runs(self, process_run_id: str, limit: int | None = None) -> list[JSON]:
        path_segment("process_run_id", process_run_id)
        return self.list("/step-runs", {"process_run_id": process_run_id}, limit)

    def get_step_run(self, step_run_id: str) -> JSON:
        return self.request("GET", f"/step-runs/{path_segment('step_run_id', step_run_id)}")

    def list_step_run_console_messages(self, step_run_id: str) -> list[JSON]:
        step = path_segment("step_run_id", step_run_id)
        return self.list(f"/step-runs/{step}/console-messages", {}, None)

    def iter_step_run_console_messages(self, step_run_id: str) -> Iterator[JSON]:
        """Console messages oldest first, page by page: the caller keeps what it needs."""
        step = path_segment("step_run_id", step_run_id)
        return self.pages(f"/step-runs/{step}/console-messages", {}, None)

    def list_step_run_artifacts(self, step_run_id: str, limit: int | None = None) -> list[JSON]:
        step = path_segment("step_run_id", step_run_id)
        return self.list(f"/step-runs/{step}/artifacts", {}, limit)

    def get_step_run_artifact(self, step_run_id: str, artifact_id: str) -> JSON:
        """The artifact with its download ``url`` (short-lived, masked as a secret)."""
        step = path_segment("step_run_id", step_run_id)
        artifact = path_segment("artifact_id", artifact_id)
        return self.request("GET", f"/step-runs/{step}/artifacts/{artifact}")

    def step_run_artifact_url(self, step_run_id: str, artifact_id: str) -> str:
        """A fresh download URL of the artifact: fetched just before it is used."""
        url = self.get_step_run_artifact(step_run_id, artifact_id).get("url")
        if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
            step = path_segment("step_run_id", step_run_id)
            raise ControlRoomError(
                "GET",
                f"/workspaces/{self.workspace_id}/step-runs/{step}/artifacts/{artifact_id}",
                "the answer has no http:// or https:// download URL.",
            )
        return url

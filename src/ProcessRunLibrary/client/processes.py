"""Processes: list them."""

from __future__ import annotations

from .transport import JSON, Transport


class Processes(Transport):
    def list_processes(self, limit: int | None = None) -> list[JSON]:
        """The workspace's processes (``listProcesses``), all pages followed."""
        return self.list("/processes", {}, limit)

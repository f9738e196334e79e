"""Step runs: list and read them, their console messages and their artifacts."""

from __future__ import annotations

from .transport import Transport


class StepRuns(Transport):
    pass

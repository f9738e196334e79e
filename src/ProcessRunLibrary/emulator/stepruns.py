"""Step runs: the steps of each run, their console messages and artifacts."""

from __future__ import annotations

from .runs import Runs


class StepRuns(Runs):
    pass

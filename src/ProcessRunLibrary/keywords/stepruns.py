"""Step runs: what a run's robot did, its console messages and its artifacts."""

from __future__ import annotations

from .context import LibraryComponent


class StepRunKeywords(LibraryComponent):
    pass

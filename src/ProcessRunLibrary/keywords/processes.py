"""Processes: list them and find one by name."""

from __future__ import annotations

from .context import LibraryComponent


class ProcessKeywords(LibraryComponent):
    pass

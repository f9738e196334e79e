"""Work items: create input items with files, list, read, update, retry, mark done, delete."""

from __future__ import annotations

from .context import LibraryComponent


class WorkItemKeywords(LibraryComponent):
    pass

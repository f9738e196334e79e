"""Processes: list them and find one by name."""

from __future__ import annotations

from .transport import Transport


class Processes(Transport):
    pass

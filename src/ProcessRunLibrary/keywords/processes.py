"""Processes: list them and find one by name."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from robot.api import logger
from robot.api.deco import keyword

from ..errors import ProcessNotFound
from ..text import counted, listed, printable
from ..types import non_empty, positive_int
from .context import LibraryComponent, LibraryContext, found, to_dotdict

if TYPE_CHECKING:
    from ..client import ControlRoomClient

CANDIDATES_SHOWN = 5


class ProcessKeywords(LibraryComponent):
    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        # One listing per session, read again when a name is not in it.
        self._listings: weakref.WeakKeyDictionary[ControlRoomClient, list[Any]] = (
            weakref.WeakKeyDictionary()
        )

    @keyword
    def list_processes(self, limit: int | None = None, alias: str | None = None) -> list[Any]:
        """Returns the workspace's processes, following every page.

        Each process is a dictionary with dot access: ``${process.id}``,
        ``${process.name}``, ``${process.created_at}``. ``limit`` returns at most that
        many processes and is also sent as the page size.

        Fails when Control Room refuses the request (for example HTTP 403 when the API
        key lacks the permission to read processes).

        Examples:
        | ${processes} = | List Processes |
        | FOR | ${process} | IN | @{processes} |
        | | Log | ${process.name}: ${process.id} |
        | END |
        """
        positive_int("limit", limit)
        client = self.ctx.client(alias)
        processes = client.list_processes(limit)
        if limit is None:
            self._listings[client] = processes  # a complete listing: Get Process Id uses it
        # A copy: what the caller changes in it does not change the listing Get Process Id uses.
        return found(to_dotdict(processes), "process", "processes")

    @keyword
    def get_process_id(self, name: str, alias: str | None = None) -> str:
        """Returns the id of the one process named exactly ``name``.

        The match is exact and case-sensitive. The workspace's processes are listed
        once per session and kept: later calls send no request, unless ``name`` is
        not in the kept listing, which is then read again (a process created since is
        found). `List Processes` also refreshes the kept listing.

        Fails when no process has exactly that name, with a message that names up to
        five processes whose names contain ``name`` or equal it ignoring case, and when
        several processes have that name, with a message that names their ids.

        Examples:
        | ${id} = | Get Process Id | Invoice processing |
        | ${run id} = | Start Process Run | ${id} |
        """
        non_empty("name", name)
        client = self.ctx.client(alias)
        processes = self._listings.get(client)
        matches = _named(processes or [], name)
        if not matches:
            processes = client.list_processes()
            self._listings[client] = processes
            matches = _named(processes, name)
        if len(matches) > 1:
            ids = ", ".join(f"'{printable(p.get('id'))}'" for p in matches)
            raise ProcessNotFound(
                f"Several processes are named '{name}': their ids are {ids}. "
                "Give the process id instead of the name."
            )
        if not matches:
            raise ProcessNotFound(_no_such_process(name, processes or []))
        process_id = str(matches[0].get("id"))
        logger.info(f"Process '{name}' has id '{printable(process_id)}'.")
        return process_id


def _named(processes: list[Any], name: str) -> list[Any]:
    return [p for p in processes if isinstance(p, dict) and p.get("name") == name]


def _no_such_process(name: str, processes: list[Any]) -> str:
    wanted = name.casefold()
    similar = sorted(
        (
            p
            for p in processes
            if isinstance(p, dict)
            and isinstance(p.get("name"), str)
            and wanted in p["name"].casefold()
        ),
        key=lambda p: (p["name"].casefold() != wanted, p["name"]),
    )
    text = f"No process is named '{name}'."
    if not similar:
        count = counted(len(processes), "process", "processes")
        return f"{text} None of the workspace's {count} has a similar name."
    shown = listed(
        [f"'{printable(p['name'])}' (id '{printable(p.get('id'))}')" for p in similar],
        CANDIDATES_SHOWN,
    )
    return f"{text} Processes with similar names: {shown}."

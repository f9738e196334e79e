"""How the library watches process runs: the pause between polls and the cheapest
requests that read the state of many runs. Plain Python, no Robot Framework."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ControlRoomError, ProcessRunLibraryError
from .types import ENDED_STATES

if TYPE_CHECKING:
    from .client import ControlRoomClient

FIRST_PAUSE = 0.1
PAGE_SIZE = 100


class PollSchedule:
    """Pauses that start at 0.1 s and double up to ``poll_interval``, with ±10 % jitter.

    Short runs are seen to end quickly; a long wait costs about one request per
    ``poll_interval`` plus the seven or so quick ones at the start.
    """

    def __init__(self, poll_interval: float, rng: Callable[[], float] = random.random) -> None:
        self.poll_interval = poll_interval
        self.rng = rng
        self.base = min(FIRST_PAUSE, poll_interval)

    def next_pause(self) -> float:
        pause = min(self.base * (0.9 + 0.2 * self.rng()), self.poll_interval)
        self.base = min(self.base * 2, self.poll_interval)
        return pause


@dataclass
class Watched:
    """One run being waited for, and what the last poll said of it."""

    id: str
    run: dict[str, Any] | None = None
    error: ControlRoomError | None = None

    @property
    def state(self) -> str | None:
        return self.run.get("state") if self.run else None

    @property
    def has_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def process_id(self) -> str | None:
        return ((self.run or {}).get("process") or {}).get("id")


@dataclass
class RunWatcher:
    """Reads the state of runs; many runs of one process cost one list request a round."""

    client: ControlRoomClient  # or anything with its methods

    def poll(self, watched: Iterable[Watched], timeout: float | None = None) -> None:
        """Read the runs that have not ended. A run that cannot be read for good (404,
        403) fails the poll; with several such runs the error names every one."""
        watched = list(watched)
        pending = [w for w in watched if not w.has_ended]
        if len(pending) == 1:
            error = self._get(pending[0], timeout)
            if error is not None:
                raise error
            return
        groups: dict[str | None, list[Watched]] = {}
        for w in pending:
            groups.setdefault(w.process_id, []).append(w)
        unreadable: list[ControlRoomError] = []
        for process_id, runs in groups.items():
            unreadable += self._list(process_id, runs, timeout)
        if len(unreadable) == 1:
            raise unreadable[0]
        if unreadable:
            raise ProcessRunLibraryError(
                f"{len(unreadable)} of {len(watched)} process runs could not be read:\n"
                + "\n".join(f"- {error}" for error in unreadable)
            )

    def _get(self, w: Watched, timeout: float | None) -> ControlRoomError | None:
        """Read one run; return the error if it cannot be read for good."""
        try:
            w.run, w.error = self.client.get_process_run(w.id, timeout=timeout, quiet=True), None
        except ControlRoomError as error:
            w.error = error
            if not error.is_transient:
                return error
        return None

    def _list(
        self, process_id: str | None, runs: list[Watched], timeout: float | None
    ) -> list[ControlRoomError]:
        """Find ``runs`` in the newest runs of their process; GET the ones not found.

        Runs are listed newest first. Paging stops when every run is found, at a run
        older than the oldest one waited for, or when the pages read reach the number of
        runs still missing: from there one GET per run costs no more.
        """
        wanted = {w.id: w for w in runs}
        oldest = min((w.run or {}).get("created_at") or "" for w in runs)
        try:
            items = self.client.iter_process_runs(process_id, PAGE_SIZE, timeout)
            for count, item in enumerate(items, start=1):
                w = wanted.pop(str(item.get("id")), None)
                if w is not None:
                    w.run, w.error = item, None
                if not wanted:
                    break
                if count % PAGE_SIZE == 0:  # the end of a page: read another one?
                    older = oldest and str(item.get("created_at") or "") < oldest
                    if older or count // PAGE_SIZE >= len(wanted):
                        break
        except ControlRoomError as error:
            if not error.is_transient:
                raise
            for w in wanted.values():
                w.error = error
            return []
        # Not among the newest runs: ask for each one.
        errors = [self._get(w, timeout) for w in wanted.values()]
        return [e for e in errors if e is not None]

"""How the library reads the runs it waits for: :class:`RunWatcher`, the cheapest
requests that read the state of many runs, and :func:`poll_until_ended`, the wait loop
that spaces them by :mod:`.polling`'s schedules. Plain Python, no Robot Framework."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ControlRoomError, ProcessRunLibraryError
from .polling import PAGE_SIZE, History, PredictiveSchedule, Watched, history_of
from .text import LISTED, printable

if TYPE_CHECKING:
    from .client import ControlRoomClient


@dataclass
class RunWatcher:
    """Reads the state of runs; many runs of one process cost one list request a round.

    With a ``history``, every run read is noted in it, and a single run whose process's
    history is not known yet is read through its process's list: the same one request
    gives its state and the history. So is a run whose process has no window yet while
    other runs of it are going: as they end, they make the history mid-wait.
    """

    client: ControlRoomClient  # or anything with its methods
    history: History | None = None

    def poll(self, watched: Iterable[Watched], timeout: float | None = None) -> None:
        """Read the runs that have not ended. A run that cannot be read for good (404,
        403) fails the poll; with several such runs the error names every one."""
        watched = list(watched)
        pending = [w for w in watched if not w.has_ended]
        if len(pending) == 1:
            process_id = pending[0].process_id
            if process_id is not None and self._learns(process_id, pending):
                lost = self._list(process_id, pending, timeout)
                if lost:
                    raise lost[0]
                return
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
            more = len(unreadable) - LISTED
            raise ProcessRunLibraryError(
                f"{len(unreadable)} of {len(watched)} process runs could not be read:\n"
                + "\n".join(f"- {printable(error, None)}" for error in unreadable[:LISTED])
                + (f"\n- and {more:,} more." if more > 0 else "")
            )

    def _learns(self, process_id: str | None, runs: list[Watched]) -> bool:
        """Whether the first page of the process's list is worth reading whole: its
        history is not known, or it has no window yet and runs not waited for are going
        (each one that ends adds to the history)."""
        if self.history is None or process_id is None:
            return False
        if not self.history.known(process_id):
            return True
        if self.history.window(process_id) is not None:
            return False
        mine = {w.id for w in runs}
        return any(run_id not in mine for run_id in self.history.running(process_id))

    def _get(self, w: Watched, timeout: float | None) -> ControlRoomError | None:
        """Read one run; return the error if it cannot be read for good."""
        try:
            w.run, w.error = self.client.get_process_run(w.id, timeout=timeout, quiet=True), None
        except ControlRoomError as error:
            w.error = error
            if not error.is_transient:
                return error
            return None
        if self.history is not None:
            self.history.note([w.run])
        return None

    def _list(
        self, process_id: str | None, runs: list[Watched], timeout: float | None
    ) -> list[ControlRoomError]:
        """Find ``runs`` in the newest runs of their process; GET the ones not found.

        Runs are listed newest first. Paging stops when every run is found, at a run
        older than the oldest one waited for, or when the pages read reach the number of
        runs still missing: from there one GET per run costs no more. While the process's
        history is not known, the rest of the first page is read too (no more requests).
        """
        wanted = {w.id: w for w in runs}
        oldest = min((_created_at(w.run) for w in runs), default="")
        learns = self._learns(process_id, runs)
        seen: list[Any] = []
        try:
            items = self.client.iter_process_runs(process_id, PAGE_SIZE, timeout)
            for count, item in enumerate(items, start=1):
                seen.append(item)
                w = wanted.pop(str(item.get("id")), None)
                if w is not None:
                    w.run, w.error = item, None
                if not wanted and not learns:
                    break
                if count % PAGE_SIZE == 0:  # the end of a page: read another one?
                    older = oldest and _created_at(item) < oldest
                    if not wanted or older or count // PAGE_SIZE >= len(wanted):
                        break
        except ControlRoomError as error:
            if not error.is_transient:
                raise
            for w in wanted.values():
                w.error = error
            return []
        finally:
            if self.history is not None:
                self.history.note(seen)
        if learns and process_id is not None and self.history is not None:
            self.history.read(process_id, seen)
        # Not among the newest runs: ask for each one.
        errors = [self._get(w, timeout) for w in wanted.values()]
        return [e for e in errors if e is not None]


def _created_at(run: Any) -> str:
    """A run's ``created_at`` for ordering runs; '' when it is unknown or no string."""
    created = run.get("created_at") if isinstance(run, dict) else None
    return created if isinstance(created, str) else ""


# --- The wait loop -------------------------------------------------------------------


def poll_until_ended(
    client: ControlRoomClient,
    watched: list[Watched],
    timeout: float,
    interval: float,
    expected: float | None = None,
    on_change: Callable[[Watched, float], None] | None = None,
    just_started: bool = False,
) -> float:
    """Poll until every run has ended or ``timeout`` has passed; return the seconds taken.

    The session's :class:`History` predicts the runs' ends, a :class:`RunWatcher` reads
    them and a :class:`PredictiveSchedule` spaces the polls. ``on_change(run, elapsed)``
    is called for each run whose state a poll changed (the keywords log it). A run
    ``just_started`` (its start has just been answered) is surely `new`: the first poll
    comes after the schedule's first pause, not at once."""
    started = time.monotonic()
    deadline = started + timeout
    history = history_of(client)
    watcher = RunWatcher(client, history)
    schedule = PredictiveSchedule(interval, watched, history, expected)
    if just_started:
        time.sleep(min(schedule.next_pause(), timeout))
    while True:
        before = {w.id: w.state for w in watched}
        # The wait's time limit bounds each poll; the last one, at the deadline, gets a
        # little more (the keyword's LAST_READ).
        watcher.poll(watched)
        elapsed = time.monotonic() - started
        if on_change is not None:
            for w in watched:
                if w.state != before[w.id]:
                    on_change(w, elapsed)
        remaining = deadline - time.monotonic()
        if all(w.has_ended for w in watched) or remaining <= 0:
            return time.monotonic() - started
        time.sleep(min(schedule.next_pause(), remaining))

"""When the library polls a process run: the pause between polls, learned from what
Control Room says of the run and of its process's other runs (:mod:`.watching` reads
them). Plain Python, no Robot Framework."""

from __future__ import annotations

import math
import random
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .checks import ENDED_STATES
from .errors import ControlRoomError

FIRST_PAUSE = 0.1
PAGE_SIZE = 100


class PollSchedule:
    """Pauses that start at 0.1 s and double up to ``poll_interval``, with ±10 % jitter.

    Short runs are seen to end quickly; a long wait costs about one request per
    ``poll_interval`` plus the seven or so quick ones at the start. A wait that begins
    ``age`` seconds after the run's creation polls on the times a wait begun at its
    creation would have: it skips the quick polls that were due before.
    """

    def __init__(
        self,
        poll_interval: float,
        rng: Callable[[], float] = random.random,
        age: float = 0.0,
    ) -> None:
        self.poll_interval = poll_interval
        self.rng = rng
        self.base = min(FIRST_PAUSE, poll_interval)
        self._first: float | None = None
        if age > 0:
            self._first, self.base = _next_poll(age, self.base, poll_interval)

    def next_pause(self) -> float:
        jitter = 0.9 + 0.2 * self.rng()
        if self._first is not None:
            pause, self._first = self._first * jitter, None
        else:
            pause = self.base * jitter
        self.base = min(self.base * 2, self.poll_interval)
        return min(pause, self.poll_interval)


def _next_poll(age: float, first: float, poll_interval: float) -> tuple[float, float]:
    """(Seconds from ``age`` to the next poll of a wait begun at the run's creation, the
    pause that ends there.) At least half that pause: a poll just made at ``age`` needs
    no other one a moment later."""
    polled, pause = 0.0, first
    while pause < poll_interval and polled + pause <= age:  # the doubling: ~7 steps
        polled, pause = polled + pause, min(pause * 2, poll_interval)
    if polled + pause <= age:  # every poll_interval from there on
        polled += math.floor((age - polled) / pause) * pause
    while polled + pause <= age:  # what floor's rounding left
        polled += pause
    return max(polled + pause - age, pause / 2), pause


@dataclass
class Watched:
    """One run being waited for, and what the last poll said of it."""

    id: str
    run: dict[str, Any] | None = None
    error: ControlRoomError | None = None
    process_hint: str | None = None  # known before the first poll (the run was just started)
    created_hint: float | None = None  # epoch seconds on this machine's clock, ditto
    first_created_at: float | None = field(default=None, repr=False)  # see reported_created

    @property
    def state(self) -> str | None:
        return self.run.get("state") if self.run else None

    @property
    def has_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def process_id(self) -> str | None:
        return process_of(self.run) or self.process_hint

    @property
    def created(self) -> float | None:
        """When the run was created, epoch seconds, or None before the first poll."""
        if self.created_hint is not None:
            return self.created_hint
        return self.reported_created

    @property
    def reported_created(self) -> float | None:
        """The run's ``created_at`` on Control Room's clock, or None before the first poll.

        The first time Control Room gives is kept: a ``created_at`` that moved with every
        answer would keep the run in its predicted window, polled densely for ever."""
        if self.first_created_at is None:
            self.first_created_at = _epoch((self.run or {}).get("created_at"))
        return self.first_created_at


def process_of(run: Any) -> str | None:
    """The id of a run's process, or None when the server did not say it as it should."""
    process = run.get("process") if isinstance(run, dict) else None
    found = process.get("id") if isinstance(process, dict) else None
    return found if isinstance(found, str) else None


# --- Predictive polling ------------------------------------------------------------------

HISTORY_RUNS = 5  # the newest ended runs of a process that predict its next run
MIN_HISTORY = 3  # fewer ended runs than this say nothing
HISTORY_TTL = 600.0  # seconds a process's history is trusted in a session (10 minutes)
SPREAD_LIMIT = 0.5  # durations spread wider than this fraction of their median say nothing
DENSE_PAUSE = 0.4  # seconds, the shortest pause while the run is likely to end
DENSE_POLLS = 14  # at most this many polls cover the window (half of them on average)
EXPECTED_SPREAD = 0.1  # expected_duration=D: the run is expected to end within D +- 10 %


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 time from Control Room, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = moment.timestamp()
    return seconds if math.isfinite(seconds) else None


def _median(values: list[float]) -> float:
    """Of a few numbers (statistics would import fractions and decimal with the library)."""
    ordered, middle = sorted(values), len(values) // 2
    return ordered[middle] if len(values) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def run_length(run: Any) -> float | None:
    """Seconds from an ended run's creation to its end (queue time included), or None."""
    if not isinstance(run, dict) or run.get("state") not in ENDED_STATES:
        return None
    created, ended = _epoch(run.get("created_at")), _epoch(run.get("ended_at"))
    if created is None or ended is None or ended < created:
        return None
    return ended - created


@dataclass(frozen=True)
class Window:
    """When a run is expected to end, in seconds after its creation."""

    start: float
    end: float

    @classmethod
    def around(cls, seconds: float) -> Window:
        return cls(seconds * (1 - EXPECTED_SPREAD), seconds * (1 + EXPECTED_SPREAD))

    @classmethod
    def from_lengths(cls, lengths: list[float]) -> Window | None:
        """The range of ``lengths`` widened by half the mean gap between them on each
        side, or None when they are too few or spread too widely to say anything."""
        if len(lengths) < MIN_HISTORY:
            return None
        low, high = min(lengths), max(lengths)
        if high - low > SPREAD_LIMIT * _median(lengths):
            return None
        margin = max((high - low) / (len(lengths) - 1) / 2, 0.25)
        return cls(max(low - margin, 0.0), high + margin)


class History:
    """The newest ended runs of each process seen in one session, and when each
    process's list was last read. Fed by the lists and reads a wait makes anyway."""

    def __init__(self, ttl: float = HISTORY_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._runs: dict[str, dict[str, tuple[str, float]]] = {}
        self._read_at: dict[str, float] = {}
        self._running: dict[str, dict[str, float]] = {}

    def note(self, runs: Iterable[Any]) -> None:
        """Keep the ended runs among ``runs`` (any processes, any order)."""
        for run in runs:
            length = run_length(run)
            process = process_of(run) if length is not None else None
            if length is None or not isinstance(process, str):
                continue
            known = self._runs.setdefault(process, {})
            known[str(run.get("id"))] = (str(run.get("created_at")), length)
            if len(known) > HISTORY_RUNS:
                newest = sorted(known.items(), key=lambda kv: kv[1][0], reverse=True)
                self._runs[process] = dict(newest[:HISTORY_RUNS])

    def read(self, process_id: str, runs: Iterable[Any] = ()) -> None:
        """The newest page of the process's runs, ``runs``, has just been noted."""
        self._read_at[process_id] = self.clock()
        going = {}
        for run in runs:
            created = _epoch(run.get("created_at")) if isinstance(run, dict) else None
            if created is not None and run.get("state") not in ENDED_STATES:
                going[str(run.get("id"))] = created
        self._running[process_id] = going

    def running(self, process_id: str) -> dict[str, float]:
        """The runs of the process that had not ended at the last read of its list:
        id -> ``created_at`` (epoch seconds, Control Room's clock)."""
        return self._running.get(process_id, {})

    def known(self, process_id: str) -> bool:
        read_at = self._read_at.get(process_id)
        return read_at is not None and self.clock() - read_at < self.ttl

    def lengths(self, process_id: str) -> list[float]:
        return [length for _, length in self._runs.get(process_id, {}).values()]

    def window(self, process_id: str) -> Window | None:
        return Window.from_lengths(self.lengths(process_id))


_HISTORIES: weakref.WeakKeyDictionary[Any, History] = weakref.WeakKeyDictionary()


def history_of(client: Any) -> History:
    """The history of a session: kept as long as its client lives."""
    history = _HISTORIES.get(client)
    if history is None:
        history = _HISTORIES[client] = History()
    return history


class PredictiveSchedule:
    """Pauses from what the runs' process did before, else :class:`PollSchedule`'s.

    For a run with a :class:`Window` (from ``expected`` or the process's history) the
    polls come at most ``poll_interval`` apart and evenly until the window opens,
    every window / ``DENSE_POLLS`` (at least ``DENSE_PAUSE``) within it, and after it
    the pauses double again from there up to ``poll_interval``. A run without a
    window follows ``PollSchedule`` counted from the run's creation, its pauses no
    shorter than the head start of the oldest other run of its process still going;
    a group waits the shortest of its runs' pauses.
    """

    def __init__(
        self,
        poll_interval: float,
        watched: list[Watched],
        history: History,
        expected: float | None = None,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.poll_interval = poll_interval
        self.watched = watched
        self.history = history
        self.expected = expected
        self.rng = rng
        self.clock = clock
        self.base = PollSchedule(poll_interval, rng)
        self._windows: dict[str, Window | None] = {}
        self._bases: dict[str, PollSchedule] = {}  # of the runs without a window

    def window(self, w: Watched) -> Window | None:
        """The run's window, decided once its process's history gives one (runs of the
        process that end during the wait may give it mid-wait)."""
        if w.id in self._windows:
            return self._windows[w.id]
        if self.expected is not None:
            window: Window | None = Window.around(self.expected)
        elif w.process_id is None or not self.history.known(w.process_id):
            return None  # not yet: the next poll reads the history
        else:
            window = self.history.window(w.process_id)
        if window is not None and self._dense(window) >= self.poll_interval:
            window = None  # no denser than polling every poll_interval
        if window is not None or self.expected is not None:
            self._windows[w.id] = window
        return window

    def head_start(self, w: Watched) -> float:
        """By how long the oldest other run of the process still going at the last read of
        its list was created before this one, both on Control Room's clock (so this
        machine's clock cannot skew it): that run has gone at least this much longer than
        this one, so this one, if it is like it, will not end within this time."""
        mine = w.reported_created
        if mine is None or w.process_id is None:
            return 0.0
        others = [c for i, c in self.history.running(w.process_id).items() if i != w.id]
        return max(mine - min(others), 0.0) if others else 0.0

    def _dense(self, window: Window) -> float:
        return max(DENSE_PAUSE, (window.end - window.start) / DENSE_POLLS)

    def next_pause(self) -> float:
        pending = [w for w in self.watched if not w.has_ended]
        pauses = []
        unread = False  # runs whose creation is not known yet share one PollSchedule
        for w in pending:
            window, created = self.window(w), w.created
            if created is None:
                unread = True
            elif window is None:
                pauses.append(self._unplaced(w, created))
            else:
                pauses.append(self._pause(window, max(self.clock() - created, 0.0)))
        if unread or not pauses:
            pauses.append(self.base.next_pause())
        return min(pauses)

    def _unplaced(self, w: Watched, created: float) -> float:
        """The pause of a run without a window: ``PollSchedule``'s doubling, counted from
        the run's creation (a run that had gone a minute when the wait began is not
        expected to end within the next second), and no shorter than its process's
        head start while an older run of it goes."""
        schedule = self._bases.get(w.id)
        if schedule is None:
            # Ages on this machine's clock: one behind Control Room's (or an accelerated
            # emulator's) makes them look zero, which is today's schedule, no denser.
            age = max(self.clock() - created, 0.0)
            schedule = self._bases[w.id] = PollSchedule(self.poll_interval, self.rng, age)
        pause = schedule.next_pause()
        head = self.head_start(w) * (0.9 + 0.2 * self.rng())
        return min(max(pause, head), self.poll_interval)

    def _pause(self, window: Window, age: float) -> float:
        dense = self._dense(window)
        if age < window.start:  # evenly, at most poll_interval apart, onto the window's start
            until = window.start - age
            pause = until / max(math.ceil(until / self.poll_interval - 1e-9), 1)
            # Never shorter than the dense pause: the windows of a group's runs open a few
            # milliseconds apart, and each opening must not cost a poll of its own.
            return max(pause, dense)
        jitter = 0.9 + 0.2 * self.rng()
        if age < window.end:
            return min(dense * jitter, self.poll_interval)
        # Outlived the prediction: pauses double again (dense, 2 x dense, ...).
        return min(max(dense, age - window.end) * jitter, self.poll_interval)

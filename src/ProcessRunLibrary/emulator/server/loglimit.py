"""The emulator's own output to standard error, bounded under any flood: at most
`LINES_PER_WINDOW` messages every `WINDOW_SECONDS`, then one line that counts the ones left
out. A flood of bad connections costs a few lines, not one per connection."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

PREFIX = "processrun-emulator: "
LINES_PER_WINDOW = 20
WINDOW_SECONDS = 10.0


class BoundedLines:
    def __init__(
        self,
        per_window: int = LINES_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.per_window = per_window
        self.window = window
        self.stream = stream
        self._window_start = -float("inf")
        self._written = 0
        self._left_out = 0

    def allow(self) -> bool:
        """Whether one more message may be written now; counts it if not."""
        now = self.clock()
        if now - self._window_start >= self.window:
            self._close_window()
            self._window_start = now
            self._written = 0
        if self._written >= self.per_window:
            self._left_out += 1
            return False
        self._written += 1
        return True

    def write(self, headline: str, detail: str = "") -> None:
        if self.allow():
            self._print(f"{PREFIX}{headline}:\n{detail}" if detail else f"{PREFIX}{headline}")

    def _close_window(self) -> None:
        if self._left_out:
            self._print(
                f"{PREFIX}{self._left_out} more messages left out "
                f"(at most {self.per_window} every {self.window:g} s)"
            )
            self._left_out = 0

    def _print(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(text.rstrip("\n") + "\n")
        stream.flush()


stderr_lines = BoundedLines()


class _Budget(logging.Filter):
    """Log records (aiohttp's, asyncio's) share the budget of stderr_lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return stderr_lines.allow()


class _Brief(logging.Formatter):
    """The exception of a record as one line: under a flood each traceback is the same."""

    def formatException(self, ei: Any) -> str:
        return f"  {ei[0].__name__}: {ei[1]}" if ei and ei[0] else ""


def bound_logging() -> None:
    """Route warnings and errors of every logger to standard error within the budget
    (instead of logging's last-resort handler, which writes each one)."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.addFilter(_Budget())
    handler.setFormatter(_Brief(PREFIX + "%(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)

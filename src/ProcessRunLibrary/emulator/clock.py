"""Emulated time: a clock that can run faster than real time."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from .common import ConfigError


class Clock:
    """Emulated time: real time since the clock was made, multiplied by `factor`.

    Timestamps are epoch seconds on the emulated time line, so with a factor of 10 a run of a
    "10 second" process reports a duration of 10 and takes one real second.
    """

    def __init__(self, factor: float = 1.0, real: Callable[[], float] = time.time) -> None:
        if not math.isfinite(factor) or factor <= 0:
            raise ConfigError("clock_factor must be a positive number.")
        self.factor = float(factor)
        self._real = real
        self._origin = real()

    def now(self) -> float:
        return self._origin + (self._real() - self._origin) * self.factor


# --- Process definitions ----------------------------------------------------------------

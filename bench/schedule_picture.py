"""Draw the poll schedule: when a wait polls a run of about 60 s (and of 10 s), with a
history of 5 runs and without one, with the default poll_interval of 10 s.

The times come from the library's own PredictiveSchedule on a fake clock (no emulator,
no waiting), so the picture is the schedule itself, jitter left out.

    .venv/bin/python bench/schedule_picture.py docs/predictive-polling.png
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from ProcessRunLibrary.polling import History, PredictiveSchedule, Watched

HISTORIES = {  # run lengths of the process's last 5 runs, and the run waited for
    60.0: ([55.2, 57.6, 60.0, 62.4, 64.8], 61.0),
    10.0: ([9.2, 9.6, 10.0, 10.4, 10.8], 10.2),
}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def polls(lengths: list[float], ends: float) -> tuple[list[float], object]:
    """Poll times of a single-run wait (GET, then the history through the list)."""
    history = History(clock=lambda: 0.0)
    history.note(
        {"id": str(i), "state": "completed", "process": {"id": "p"},
         "created_at": iso(i), "ended_at": iso(i + s)}
        for i, s in enumerate(lengths)
    )  # fmt: skip
    if lengths:
        history.read("p")
    clock = Clock()
    watched = Watched("r", process_hint="p", created_hint=0.0)
    schedule = PredictiveSchedule(10.0, [watched], history, rng=lambda: 0.5, clock=clock)
    times = [0.0]
    while clock.now < ends:
        clock.now += schedule.next_pause()
        times.append(clock.now)
    return times, schedule.window(watched)


def main(path: str) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(2, 1, figsize=(10, 4.6))
    for axes, (length, (lengths, ends)) in zip(panels, HISTORIES.items(), strict=True):
        with_history, window = polls(lengths, ends)
        without, _ = polls([], ends)
        for row, (label, times) in enumerate(
            ((f"history of 5 runs: {len(with_history)} requests", with_history),
             (f"no history (today's schedule): {len(without)} requests", without))
        ):  # fmt: skip
            axes.plot(times, [row] * len(times), "|", markersize=18, markeredgewidth=1.5)
            axes.text(0, row + 0.32, label, fontsize=9)
        if window is not None:
            start, end = window.start, window.end  # type: ignore[attr-defined]
            axes.axvspan(start, end, color="orange", alpha=0.2, label="predicted window")
        axes.axvspan(
            min(lengths), max(lengths), color="orange", alpha=0.25, label="history's lengths"
        )
        axes.axvline(ends, color="red", linewidth=1, label="the run ends")
        axes.set_yticks([])
        axes.set_ylim(-0.6, 1.8)
        axes.set_xlim(-1, length * 1.35)
        axes.set_title(f"runs of about {length:g} s (poll_interval 10 s)", fontsize=10)
        axes.legend(loc="upper right", fontsize=8)
    panels[-1].set_xlabel("seconds since the run was started (each bar: one request)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"Written to {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/predictive-polling.png"))

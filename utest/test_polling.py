from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

import pytest

from ProcessRunLibrary.errors import ControlRoomError, ProcessRunLibraryError
from ProcessRunLibrary.polling import (
    History,
    PollSchedule,
    PredictiveSchedule,
    Watched,
    Window,
)
from ProcessRunLibrary.watching import RunWatcher


def test_pauses_start_quick_and_double_up_to_the_poll_interval():
    schedule = PollSchedule(10, rng=lambda: 0.5)  # no jitter
    pauses = [round(schedule.next_pause(), 3) for _ in range(10)]
    assert pauses == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10, 10, 10]


def test_jitter_stays_within_ten_percent_and_under_the_interval():
    low, high = PollSchedule(1, rng=lambda: 0.0), PollSchedule(1, rng=lambda: 1.0)
    assert low.next_pause() == pytest.approx(0.09)
    assert high.next_pause() == pytest.approx(0.11)
    for _ in range(10):
        assert high.next_pause() <= 1


def test_a_poll_interval_below_the_first_pause_is_respected():
    assert PollSchedule(0.05, rng=lambda: 1.0).next_pause() == 0.05


class FakeClient:
    """Stands in for ControlRoomClient at the level of its methods."""

    def __init__(self, runs: list[dict[str, Any]], page_size: int = 100) -> None:
        self.runs = runs
        self.calls: list[str] = []
        self.fail_with: ControlRoomError | None = None

    def get_process_run(self, run_id: str, timeout=None, quiet=False):  # type: ignore[no-untyped-def]
        self.calls.append(f"GET {run_id}")
        if self.fail_with:
            raise self.fail_with
        return next(r for r in self.runs if r["id"] == run_id)

    def iter_process_runs(self, process_id=None, page_size=100, timeout=None):  # type: ignore[no-untyped-def]
        self.calls.append(f"LIST {process_id}")
        if self.fail_with:
            raise self.fail_with
        yield from (r for r in self.runs if process_id in (None, r["process"]["id"]))


def run(
    run_id: str, process: str, state: str = "in_progress", created: str = "2026-01-01T00:00:00Z"
):
    return {"id": run_id, "state": state, "process": {"id": process}, "created_at": created}


def test_one_run_is_read_with_get():
    client = FakeClient([run("a", "p")])
    watched = [Watched("a")]
    RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert client.calls == ["GET a"]
    assert watched[0].state == "in_progress"


def test_many_runs_are_found_in_lists_one_per_process():
    runs = [run(f"a{i}", "p") for i in range(50)] + [run(f"b{i}", "q") for i in range(5)]
    client = FakeClient(runs)
    watched = [Watched(r["id"]) for r in runs]
    watcher = RunWatcher(client)  # type: ignore[arg-type]
    watcher.poll(watched)  # first round: process unknown, one workspace-wide list
    assert client.calls == ["LIST None"]
    client.calls.clear()
    watcher.poll(watched)  # later rounds: one list per process
    assert client.calls == ["LIST p", "LIST q"]


def test_ended_runs_are_not_polled_again():
    client = FakeClient([run("a", "p", "completed"), run("b", "p")])
    watched = [Watched("a"), Watched("b")]
    watcher = RunWatcher(client)  # type: ignore[arg-type]
    watcher.poll(watched)
    client.calls.clear()
    watcher.poll(watched)
    assert client.calls == ["GET b"]


def test_runs_missing_from_the_list_are_read_one_by_one():
    client = FakeClient([run("a", "p"), run("b", "p")])
    client.iter_process_runs = lambda *a, **k: iter([run("a", "p")])  # type: ignore[method-assign]
    watched = [Watched("a"), Watched("b")]
    RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert client.calls == ["GET b"]
    assert watched[1].state == "in_progress"


def test_transient_errors_are_kept_and_the_wait_goes_on():
    client = FakeClient([run("a", "p")])
    client.fail_with = ControlRoomError("GET", "/x", "503 Service Unavailable", status=503)
    watched = [Watched("a")]
    RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert watched[0].error is client.fail_with
    assert watched[0].run is None


def test_other_errors_end_the_wait():
    client = FakeClient([run("a", "p")])
    client.fail_with = ControlRoomError("GET", "/x", "404 Not Found", status=404)
    with pytest.raises(ControlRoomError):
        RunWatcher(client).poll([Watched("a")])  # type: ignore[arg-type]


def test_paging_stops_when_single_reads_would_cost_no_more():
    """250 newer runs stand before the 2 waited for: 2 pages, then 2 GETs, not 3 pages."""
    newer = [run(f"n{i}", "p") for i in range(250)]
    client = FakeClient([*newer, run("a", "p"), run("b", "p")])
    pages: list[int] = []

    def iter_process_runs(process_id=None, page_size=100, timeout=None):  # type: ignore[no-untyped-def]
        for count, item in enumerate(client.runs, start=1):
            if count % page_size == 1:
                pages.append(count)
            yield item

    client.iter_process_runs = iter_process_runs  # type: ignore[method-assign]
    watched = [Watched("a"), Watched("b")]
    RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert len(pages) == 2
    assert client.calls == ["GET a", "GET b"]


def test_paging_goes_on_while_it_is_cheaper_than_single_reads():
    """150 newer runs stand before the 100 waited for: 3 pages and no GET."""
    newer = [run(f"n{i}", "p") for i in range(150)]
    mine = [run(f"m{i}", "p") for i in range(100)]
    client = FakeClient([*newer, *mine])
    watched = [Watched(r["id"]) for r in mine]
    RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert client.calls == ["LIST None"]
    assert all(w.state == "in_progress" for w in watched)


# --- predictive polling ------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


def ended(run_id: str, process: str, length: float, created: float = 0.0) -> dict[str, Any]:
    return {
        "id": run_id,
        "state": "completed",
        "process": {"id": process},
        "created_at": iso(created),
        "ended_at": iso(created + length),
    }


def known_history(lengths: list[float], process: str = "p") -> History:
    history = History(clock=FakeClock())
    history.note(ended(f"h{i}", process, s, created=i) for i, s in enumerate(lengths))
    history.read(process)
    return history


def polls(schedule: PredictiveSchedule, clock: FakeClock, until: float) -> list[float]:
    """The times (after the run's creation at 0) at which the schedule polls."""
    times = [round(clock.now, 2)]
    while clock.now < until:
        clock.now += schedule.next_pause()
        times.append(round(clock.now, 2))
    return times


def test_a_run_is_expected_to_end_within_its_history_widened_by_half_a_gap():
    assert Window.from_lengths([9.0, 10.0, 11.0]) == Window(8.5, 11.5)
    assert Window.from_lengths([9.9, 10.0, 10.1]) == Window(9.65, 10.35)  # at least 0.25 s


def test_too_few_or_widely_spread_runs_predict_nothing():
    assert Window.from_lengths([10.0, 10.0]) is None
    assert Window.from_lengths([5.0, 10.0, 15.0]) is None  # spread 10 s > half of 10 s
    assert Window.from_lengths([8.0, 10.0, 12.0]) is not None


def test_history_keeps_the_newest_ended_runs_of_each_process():
    history = History(clock=FakeClock())
    history.note([ended(f"r{i}", "p", float(i), created=i) for i in range(1, 9)])
    history.note([run("x", "p"), ended("q1", "q", 3.0), {"id": "junk", "state": "completed"}])
    assert sorted(history.lengths("p")) == [4.0, 5.0, 6.0, 7.0, 8.0]
    assert history.lengths("q") == [3.0]


def test_untrusted_times_are_ignored():
    bad = [
        {**ended("a", "p", 1), "ended_at": "yesterday"},
        {**ended("b", "p", 1), "created_at": 12},
        {**ended("c", "p", 1), "ended_at": iso(-5)},  # ends before it was created
    ]
    history = History(clock=FakeClock())
    history.note(bad)
    assert history.lengths("p") == []


def test_a_history_is_known_for_its_time_to_live():
    clock = FakeClock(0)
    history = History(ttl=600, clock=clock)
    assert not history.known("p")
    history.read("p")
    clock.now = 599
    assert history.known("p")
    clock.now = 600
    assert not history.known("p")


def test_with_a_history_polls_are_sparse_then_dense_around_the_predicted_end():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    history = known_history([55.2, 57.6, 60.0, 62.4, 64.8])  # window 54 .. 66
    schedule = PredictiveSchedule(10, watched, history, rng=lambda: 0.5, clock=clock)
    times = polls(schedule, clock, until=65.9)
    assert times[:7] == [0, 9, 18, 27, 36, 45, 54]  # at most 10 s apart, onto the window
    assert all(b - a == pytest.approx(12 / 14, abs=0.011) for a, b in itertools.pairwise(times[6:]))
    assert len(times) == 7 + 14  # the window costs DENSE_POLLS polls at most


def test_a_run_that_outlives_its_prediction_is_polled_ever_more_sparsely():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    history = known_history([9.0, 10.0, 11.0])  # window 8.5 .. 11.5
    schedule = PredictiveSchedule(10, watched, history, rng=lambda: 0.5, clock=clock)
    clock.now = 11.5
    pauses = [round(schedule.next_pause(), 2) for _ in range(1)]
    for _ in range(6):
        clock.now += pauses[-1]
        pauses.append(round(schedule.next_pause(), 2))
    assert pauses == [0.4, 0.4, 0.8, 1.6, 3.2, 6.4, 10]


def test_without_a_history_the_schedule_is_todays():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    for history in (known_history([]), known_history([5.0, 10.0, 15.0]), History()):
        schedule = PredictiveSchedule(10, watched, history, rng=lambda: 0.5, clock=clock)
        pauses = [round(schedule.next_pause(), 3) for _ in range(9)]
        assert pauses == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10, 10]


def test_an_expected_duration_replaces_the_history():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    schedule = PredictiveSchedule(10, watched, History(), expected=20, rng=lambda: 0.5, clock=clock)
    times = polls(schedule, clock, until=18)  # window 18 .. 22
    assert times == [0, 9, 18]
    assert schedule.window(watched[0]) == Window(18, 22)


def test_a_short_poll_interval_is_not_made_longer_by_a_prediction():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    schedule = PredictiveSchedule(
        0.3, watched, History(), expected=20, rng=lambda: 0.5, clock=clock
    )
    assert schedule.window(watched[0]) is None
    assert [schedule.next_pause() for _ in range(4)] == pytest.approx([0.1, 0.2, 0.3, 0.3])


def test_a_long_window_is_polled_in_at_most_dense_polls_pauses():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    schedule = PredictiveSchedule(
        60, watched, History(), expected=600, rng=lambda: 0.5, clock=clock
    )
    clock.now = 540  # the window is 540 .. 660 s: 120 s / 14 polls
    assert schedule.next_pause() == pytest.approx(120 / 14)


def test_a_run_created_before_the_wait_is_placed_by_its_created_at():
    clock = FakeClock(1000.0)
    w = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0 - 8.0)})
    history = known_history([9.0, 10.0, 11.0])  # window 8.5 .. 11.5: opens 0.5 s from now
    schedule = PredictiveSchedule(10, [w], history, rng=lambda: 0.5, clock=clock)
    assert schedule.next_pause() == pytest.approx(0.5)


def test_a_group_waits_the_shortest_pause_of_its_runs():
    clock = FakeClock(0)
    a = Watched("a", process_hint="p", created_hint=0.0)
    b = Watched("b", process_hint="p", created_hint=-5.0)  # five seconds older
    history = known_history([9.0, 10.0, 11.0])
    schedule = PredictiveSchedule(10, [a, b], history, rng=lambda: 0.5, clock=clock)
    assert schedule.next_pause() == pytest.approx(3.5)  # b's window opens at 3.5 s


def test_a_single_run_is_read_through_its_process_list_until_the_history_is_known():
    mine = run("a", "p", created="2026-01-01T00:01:00Z")
    history_runs = [ended(f"h{i}", "p", 10.0 + i / 10, created=i) for i in range(5)]
    client = FakeClient([mine, *history_runs, ended("o", "other", 3.0)])
    history = History(clock=FakeClock())
    watcher = RunWatcher(client, history)  # type: ignore[arg-type]
    watched = [Watched("a")]
    watcher.poll(watched)  # the process is not known yet
    watcher.poll(watched)  # now it is, its history not: through the list
    watcher.poll(watched)  # and from then on with GET
    assert client.calls == ["GET a", "LIST p", "GET a"]
    assert sorted(history.lengths("p")) == pytest.approx([10.0, 10.1, 10.2, 10.3, 10.4])
    assert history.known("p")


def test_a_group_learns_the_history_from_its_own_lists():
    runs = [run(f"a{i}", "p") for i in range(3)]
    client = FakeClient([*runs, *(ended(f"h{i}", "p", 10.0, created=i) for i in range(3))])
    history = History(clock=FakeClock())
    watcher = RunWatcher(client, history)  # type: ignore[arg-type]
    watched = [Watched(r["id"]) for r in runs]
    watcher.poll(watched)
    watcher.poll(watched)
    assert client.calls == ["LIST None", "LIST p"]
    assert history.known("p") and history.lengths("p") == [10.0, 10.0, 10.0]


def test_a_failed_history_read_is_tried_again_with_the_next_poll():
    client = FakeClient([run("a", "p")])
    client.fail_with = ControlRoomError("GET", "/x", "503 Service Unavailable", status=503)
    history = History(clock=FakeClock())
    watched = [Watched("a", process_hint="p")]
    RunWatcher(client, history).poll(watched)  # type: ignore[arg-type]
    assert not history.known("p")
    client.fail_with = None
    RunWatcher(client, history).poll(watched)  # type: ignore[arg-type]
    assert client.calls == ["LIST p", "LIST p"]
    assert history.known("p")


def test_a_group_whose_windows_open_milliseconds_apart_polls_no_faster_than_densely():
    clock = FakeClock(0)
    group = [Watched(f"r{i}", process_hint="p", created_hint=i * 0.015) for i in range(16)]
    history = known_history([19.0, 19.5, 20.0, 20.5, 21.0])  # window 18.75 .. 21.25
    schedule = PredictiveSchedule(10, group, history, rng=lambda: 0.5, clock=clock)
    times = polls(schedule, clock, until=21)
    pauses = [b - a for a, b in itertools.pairwise(times)]
    assert min(pauses) >= 0.4 - 0.011
    assert len(times) <= 3 + 2 + 14


def polls_of_a_moving_server(
    schedule: PredictiveSchedule, clock: FakeClock, w: Watched, until: float
) -> int:
    """Polls in ``until`` seconds of a server whose run is always 10 s old."""
    count = 0
    while clock.now < until:
        w.run = {**run("a", "p"), "created_at": iso(clock.now - 10.0)}  # what this poll read
        count += 1
        clock.now += schedule.next_pause()
    return count


@pytest.mark.parametrize(("seconds", "stable"), [(20, 11), (60, 15)])
def test_a_created_at_that_moves_with_every_answer_keeps_the_request_budget(seconds, stable):
    history = known_history([9.0, 10.0, 11.0])  # window 8.5 .. 11.5: the run seems inside it
    counts = []
    for moving in (True, False):
        clock = FakeClock(0)
        w = Watched("a")
        schedule = PredictiveSchedule(10, [w], history, rng=lambda: 0.5, clock=clock)
        if moving:
            counts.append(polls_of_a_moving_server(schedule, clock, w, seconds))
        else:
            w.run = {**run("a", "p"), "created_at": iso(-10.0)}
            counts.append(len(polls(schedule, clock, seconds)) - 1)
    assert counts == [stable, stable]  # the first created_at counts, as if it stood still


def test_a_group_treats_a_created_at_that_is_no_string_as_unknown():
    runs = [{**run("a", "p"), "created_at": 12}, {**run("b", "p"), "created_at": None}]
    client = FakeClient([run("n", "p"), *runs])
    watched = [Watched("a", run=runs[0]), Watched("b", run=runs[1])]
    RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert client.calls == ["LIST p"]
    assert [w.created for w in watched] == [None, None]


def test_the_runs_a_group_cannot_read_are_named_up_to_ten():
    client = FakeClient([])
    client.iter_process_runs = lambda *a, **k: iter([])  # type: ignore[method-assign]

    def get_process_run(run_id, timeout=None, quiet=False):  # type: ignore[no-untyped-def]
        raise ControlRoomError("GET", f"/process-runs/{run_id}", "404 Not Found", status=404)

    client.get_process_run = get_process_run  # type: ignore[method-assign]
    watched = [Watched(f"r{i}") for i in range(10_000)]
    with pytest.raises(ProcessRunLibraryError) as error:
        RunWatcher(client).poll(watched)  # type: ignore[arg-type]
    assert str(error.value).splitlines() == [
        "10000 of 10000 process runs could not be read:",
        *(f"- GET /process-runs/r{i} failed: 404 Not Found" for i in range(10)),
        "- and 9,990 more.",
    ]


# --- the first wait on a process: its age and its other runs -----------------------------


def going(run_id: str, process: str, created: float) -> dict[str, Any]:
    return run(run_id, process, created=iso(created))


def test_a_fresh_run_without_a_history_is_polled_with_todays_doubling():
    clock = FakeClock(0)
    watched = [Watched("a", process_hint="p", created_hint=0.0)]
    schedule = PredictiveSchedule(10, watched, known_history([]), rng=lambda: 0.5, clock=clock)
    assert polls(schedule, clock, until=30) == [0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3, 12.7, 22.7, 32.7]


def test_a_wait_on_an_older_run_polls_when_a_wait_from_its_creation_would_have():
    clock = FakeClock(1004.0)
    w = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0)})
    schedule = PredictiveSchedule(10, [w], known_history([]), rng=lambda: 0.5, clock=clock)
    since_creation = [round(t - 1000.0, 2) for t in polls(schedule, clock, until=1030)]
    assert since_creation == [4, 6.3, 12.7, 22.7, 32.7]  # not 4.1, 4.3, 4.7, 5.5, ...


def test_a_wait_on_a_run_created_long_before_polls_every_poll_interval():
    schedule = PollSchedule(10, lambda: 0.5, age=40)
    assert [schedule.next_pause() for _ in range(3)] == [5, 10, 10]  # 5: half a pause at least
    schedule = PollSchedule(10, lambda: 0.5, age=2)  # polls due at 3.1, 6.3, 12.7, 22.7 s
    assert [round(schedule.next_pause(), 3) for _ in range(4)] == [1.1, 3.2, 6.4, 10]
    assert PollSchedule(10, lambda: 0.5, age=86_400.0 * 365).next_pause() == 5


def test_a_clock_behind_control_rooms_does_not_make_polls_denser_than_todays():
    clock = FakeClock(1000.0)
    ahead = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0 + 60.0)})
    schedule = PredictiveSchedule(10, [ahead], known_history([]), rng=lambda: 0.5, clock=clock)
    pauses = []
    for _ in range(9):
        pauses.append(round(schedule.next_pause(), 3))
        clock.now += pauses[-1]
    assert pauses == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10, 10]


def test_history_keeps_the_runs_going_at_the_last_read_of_its_list():
    history = History(clock=FakeClock())
    history.read(
        "p", [going("a", "p", 100.0), ended("b", "p", 5.0), {**run("c", "p"), "created_at": 7}]
    )
    assert history.running("p") == {"a": 100.0}
    history.read("p", [ended("a", "p", 5.0, created=100.0)])
    assert history.running("p") == {}
    assert history.running("q") == {}


def test_a_run_whose_process_has_an_older_run_going_waits_that_run_s_head_start():
    clock = FakeClock(1000.0)
    mine = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0)})
    history = known_history([])
    history.read("p", [mine.run, going("b", "p", 1000.0 - 4.0), going("c", "p", 1000.0 - 1.0)])
    schedule = PredictiveSchedule(10, [mine], history, rng=lambda: 0.5, clock=clock)
    assert schedule.head_start(mine) == 4
    assert polls(schedule, clock, until=1011) == [1000, 1004, 1008, 1012]


def test_a_head_start_longer_than_the_poll_interval_waits_the_poll_interval():
    clock = FakeClock(1000.0)
    mine = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0)})
    history = known_history([])
    history.read("p", [mine.run, going("b", "p", 1000.0 - 30.0)])
    schedule = PredictiveSchedule(10, [mine], history, rng=lambda: 0.5, clock=clock)
    assert schedule.next_pause() == 10


def test_runs_of_the_process_started_with_it_or_after_it_give_no_head_start():
    clock = FakeClock(1000.0)
    mine = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0)})
    history = known_history([])
    history.read("p", [going("c", "p", 1000.5), mine.run, going("b", "p", 999.9)])
    schedule = PredictiveSchedule(10, [mine], history, rng=lambda: 0.5, clock=clock)
    assert schedule.head_start(mine) == pytest.approx(0.1)
    assert schedule.next_pause() == pytest.approx(0.1)


def test_once_the_older_runs_have_ended_the_doubling_goes_on():
    clock = FakeClock(1000.0)
    mine = Watched("a", run={**run("a", "p"), "created_at": iso(1000.0)})
    history = known_history([])
    history.read("p", [mine.run, going("b", "p", 1000.0 - 4.0)])
    schedule = PredictiveSchedule(10, [mine], history, rng=lambda: 0.5, clock=clock)
    assert schedule.next_pause() == 4
    history.read("p", [mine.run, ended("b", "p", 5.0, created=1000.0 - 4.0)])
    assert schedule.head_start(mine) == 0
    assert schedule.next_pause() == pytest.approx(0.2)


def test_runs_that_end_during_the_wait_give_a_window_mid_wait():
    clock = FakeClock(0)
    mine = Watched("a", process_hint="p", created_hint=0.0)
    history = known_history([])
    schedule = PredictiveSchedule(10, [mine], history, rng=lambda: 0.5, clock=clock)
    assert schedule.window(mine) is None
    history.note(ended(f"s{i}", "p", 60.0 + i, created=-30.0 + i) for i in range(3))
    assert schedule.window(mine) == Window(59.5, 62.5)


def test_a_single_run_is_read_through_its_list_while_other_runs_of_its_process_go():
    mine = going("a", "p", 1000.0)
    siblings = [going(f"s{i}", "p", 970.0 + i) for i in range(3)]
    client = FakeClient([mine, *siblings])
    history = History(clock=FakeClock())
    watcher = RunWatcher(client, history)  # type: ignore[arg-type]
    watched = [Watched("a", process_hint="p")]
    watcher.poll(watched)  # the history is not known
    watcher.poll(watched)  # known and empty, but three runs are going
    client.runs = [mine, *(ended(f"s{i}", "p", 60.0 + i, created=970.0 + i) for i in range(3))]
    watcher.poll(watched)  # they have ended: a window
    watcher.poll(watched)
    assert client.calls == ["LIST p", "LIST p", "LIST p", "GET a"]
    assert history.window("p") is not None


def test_a_run_without_a_window_and_no_other_run_going_is_read_with_get():
    client = FakeClient([going("a", "p", 1000.0), ended("old", "p", 5.0)])
    watcher = RunWatcher(client, History(clock=FakeClock()))  # type: ignore[arg-type]
    watched = [Watched("a", process_hint="p")]
    watcher.poll(watched)
    watcher.poll(watched)
    assert client.calls == ["LIST p", "GET a"]


def test_a_group_reads_its_process_s_first_page_while_other_runs_of_it_go():
    mine = [going(f"a{i}", "p", 1000.0) for i in range(2)]
    pages: list[int] = []
    client = FakeClient([*mine, going("s", "p", 970.0)])

    def iter_process_runs(process_id=None, page_size=100, timeout=None):  # type: ignore[no-untyped-def]
        client.calls.append(f"LIST {process_id}")
        for item in client.runs:
            pages.append(1)
            yield item

    client.iter_process_runs = iter_process_runs  # type: ignore[method-assign]
    history = History(clock=FakeClock())
    watched = [Watched(r["id"], process_hint="p") for r in mine]
    watcher = RunWatcher(client, history)  # type: ignore[arg-type]
    watcher.poll(watched)
    watcher.poll(watched)
    assert client.calls == ["LIST p", "LIST p"]
    assert len(pages) == 6  # every run of the page, both times: "s" is read as it goes
    assert history.running("p") == {"a0": 1000.0, "a1": 1000.0, "s": 970.0}


def test_a_group_not_read_yet_doubles_its_pauses_once_a_round():
    clock = FakeClock(0)
    group = [Watched(f"r{i}") for i in range(5)]  # the first poll failed: nothing known
    schedule = PredictiveSchedule(10, group, History(), rng=lambda: 0.5, clock=clock)
    assert [round(schedule.next_pause(), 3) for _ in range(4)] == [0.1, 0.2, 0.4, 0.8]

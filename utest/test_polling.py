from __future__ import annotations

from typing import Any

import pytest

from ProcessRunLibrary.errors import ControlRoomError
from ProcessRunLibrary.polling import PollSchedule, RunWatcher, Watched


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

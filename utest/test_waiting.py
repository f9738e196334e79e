"""The wait keywords against a hostile Control Room (the HTTP layer faked): escape
sequences in every string, huge consoles and groups, odd shapes of step runs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ProcessRunLibrary.errors import ProcessRunLibraryError
from ProcessRunLibrary.keywords.context import LibraryContext, Settings
from ProcessRunLibrary.keywords.waiting import WaitingKeywords
from ProcessRunLibrary.keywords.workitems import WorkItemKeywords
from ProcessRunLibrary.text import listed, printable


def page(data: list[Any]) -> dict[str, Any]:
    return {"data": data, "has_more": False, "next": None}


@pytest.fixture
def ctx(client):  # type: ignore[no-untyped-def]
    context = LibraryContext(Settings(), 30, 1)
    context.sessions["default"], context.current_alias = client, "default"
    return context


def failure_of(keyword: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ProcessRunLibraryError) as error:
        keyword(*args, **kwargs)
    return str(error.value)


# --- terminal escapes ------------------------------------------------------------------


def test_printable_removes_what_a_terminal_would_act_on():
    assert printable("\x1b]0;window title\x07Invoices\x1b[2J\x1b[6n") == "Invoices"
    assert printable("a\x9b2Jb\x9d0;title\x9cc\x1bcd\x1b(Be") == "abcde"
    assert printable("link \x1b]8;;http://evil\x1b\\here\x1b]8;;\x1b\\") == "link here"
    assert printable("two\nlines\u202e\ud800") == "twolines"
    assert printable(7) == "7"
    assert printable("x" * 250) == "x" * 200 + "..."
    assert printable("\x1b[1m" * 2000 + "end") == "..."  # too long to clean whole: cut


def test_every_server_string_in_the_failure_message_is_cleaned(ctx, http):
    run = {
        "id": "r1",
        "state": "unresolved",
        "process": {"id": "p1", "name": "\x1b]0;owned\x07Invoices\x1b[2J"},
        "duration": 3,
    }
    item = {
        "id": "w1\x1b[6n",
        "exception": {
            "type": "business\x9b2J",
            "code": "NO\x1bcPDF",
            "message": "No\x1b]8;;http://evil\x1b\\ PDF\nForged: line",
        },
    }
    step = {
        "id": "s1",
        "state": "failed",
        "step": {"name": "Process\x1b[31m invoices\x9d0;t\x9c"},
    }
    http.answer(body=run)
    http.answer(body=page([item]))
    http.answer(body=page([step]))
    http.answer(body=page([{"timestamp": "t", "message": "line\x1b[?25l 1"}]))
    message = failure_of(WaitingKeywords(ctx).wait_until_process_run_completes, "r1")
    assert message == (
        "Process run r1 of process 'Invoices' ended unresolved; by Control Room's clock it ran "
        "3 seconds. Failed work items: w1 (business exception NOPDF: No PDFForged: line).\n"
        "Last console lines of step run s1 (Process invoices):\n    line 1"
    )


def test_a_run_state_with_escapes_is_cleaned_in_the_log_and_the_message(
    ctx, http, caplog, frozen_wait_clock
):
    http.answer(body={"id": "r1", "state": "\x1b[2J\x1b]0;x\x07running\x9b6n"})
    with caplog.at_level(logging.INFO):
        message = failure_of(WaitingKeywords(ctx).wait_until_process_run_completes, "r1", "0 s")
    assert message == "Process run r1 did not complete in 0 seconds; its last state was running."
    lines = [r.getMessage() for r in caplog.records]
    assert "Process run r1 is running after waiting 0 seconds." in lines
    assert "Process run r1 was still running after waiting 0 seconds (1 request)." in lines


# --- a huge console ----------------------------------------------------------------------


class Counted(dict):
    """A console message that counts how often the diagnosis looks at it."""

    reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        Counted.reads += 1
        return super().get(key, default)


def test_only_the_last_console_messages_are_decoded(ctx, http, monkeypatch):
    client = ctx.client()
    messages = [Counted(timestamp="t", message=f"line {i}") for i in range(100_000)]
    monkeypatch.setattr(client, "list_step_run_console_messages", lambda step: list(messages))
    monkeypatch.setattr(
        client, "iter_step_run_console_messages", lambda step: iter(messages), raising=False
    )
    http.answer(body={"id": "r1", "state": "unresolved", "process": {"name": "P"}})
    http.answer(body=page([]))
    http.answer(body=page([{"id": "s1", "state": "failed", "step": {"name": "S"}}]))
    Counted.reads = 0
    message = failure_of(WaitingKeywords(ctx).wait_until_process_run_completes, "r1")
    assert message.endswith(
        "Last console lines of step run s1 (S):\n"
        "    line 99995\n    line 99996\n    line 99997\n    line 99998\n    line 99999"
    )
    assert Counted.reads == 5


# --- many runs, many ids -------------------------------------------------------------------


def test_a_group_of_ten_thousand_runs_fails_with_a_bounded_message(ctx, http, caplog):
    ids = [f"run-{i:05d}" for i in range(10_000)]
    http.answer(body=page([{"id": i, "state": "in_progress", "process": {"id": "p"}} for i in ids]))
    with caplog.at_level(logging.INFO):
        message = failure_of(WaitingKeywords(ctx).wait_until_process_runs_complete, ids, "0 s")
    shown = [
        f"- Process run {i} did not complete in 0 seconds; its last state was in_progress."
        for i in ids[:10]
    ]
    assert message.splitlines() == [
        "10000 of 10000 process runs did not complete:",
        *shown,
        "- and 9,990 more.",
    ]
    table = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("<table"))
    assert table.count("<tr>") == 1 + 100 + 1
    assert table.endswith('<tr><td colspan="4">and 9,900 more process runs</td></tr></table>')


def test_a_batch_of_ten_thousand_ids_is_named_by_its_first_ten(ctx, http, caplog):
    ids = [f"item-{i:05d}" for i in range(10_000)]
    http.answer(body={"accepted": True})
    with caplog.at_level(logging.INFO):
        WorkItemKeywords(ctx).retry_work_items(ids)
    first = ", ".join(ids[:10])
    assert caplog.records[-1].getMessage() == (
        f"Control Room accepted the retry of 10000 work items ({first} and 9,990 more)."
    )
    answer = {"accepted": False, "echo": ids}
    http.answer(body=answer)
    message = failure_of(WorkItemKeywords(ctx).retry_work_items, ids)
    assert message == (
        "POST /work-items/batch failed: Control Room did not accept the retry of 10000 work "
        f"items ({first} and 9,990 more): {repr(answer)[:200]}...."
    )


def test_listed_names_the_first_ten_and_counts_the_rest():
    assert listed(["a", "b"]) == "a, b"
    assert listed([str(i) for i in range(12)]) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more"


# --- download_artifacts=True keeps its promise for any shape ---------------------------------


@pytest.mark.parametrize(
    ("step", "title"),
    [
        ("Process invoices", "Step run s1, completed"),
        (["Process", "invoices"], "Step run s1, completed"),
        ({"name": "Process\ud800 invoices"}, "Step run s1 (Process invoices), completed"),
        ({"name": 42}, "Step run s1 (42), completed"),
    ],
)
def test_any_shape_of_a_step_run_is_linked(ctx, http, caplog, tmp_path, monkeypatch, step, title):
    monkeypatch.chdir(tmp_path)
    http.answer(body={"id": "r1", "state": "completed"})
    http.answer(body=page([{"id": "s1", "state": "completed", "step": step}]))
    http.answer(body=page([]))  # no artifacts
    with caplog.at_level(logging.INFO):
        run = WaitingKeywords(ctx).wait_until_process_run_completes("r1", download_artifacts=True)
    assert run["state"] == "completed"
    assert caplog.records[-1].getMessage() == (
        f"<b>Artifacts of process run r1</b><ul><li>{title}: no artifacts</li></ul>"
    )


def test_an_artifact_name_with_a_lone_surrogate_is_saved_without_it(
    ctx, http, caplog, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    http.answer(body={"id": "r1", "state": "completed"})
    http.answer(body=page([{"id": "s1", "state": "completed", "step": {"name": "S"}}]))
    http.answer(body=page([{"id": "a1", "name": "log\ud800.html"}]))
    # A host that never resolves (RFC 2606): the name the download gets is what counts.
    http.answer(body={"id": "a1", "name": "log\ud800.html", "url": "https://files.invalid/a1"})
    with caplog.at_level(logging.INFO):
        WaitingKeywords(ctx).wait_until_process_run_completes("r1", download_artifacts=True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "The artifacts of process run r1 could not be saved: Downloading 'log.html' failed: "
        "the host name could not be resolved."
    ]


def test_a_folder_that_cannot_be_made_is_a_warning_in_words(
    ctx, http, caplog, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "process-runs").write_text("a file where the folder should be")
    http.answer(body={"id": "r1", "state": "completed"})
    http.answer(body=page([{"id": "s1", "state": "completed", "step": {"name": "S"}}]))
    http.answer(body=page([{"id": "a1", "name": "log.html"}]))
    http.answer(body={"id": "a1", "name": "log.html", "url": "https://files.invalid/a1"})
    with caplog.at_level(logging.INFO):
        WaitingKeywords(ctx).wait_until_process_run_completes("r1", download_artifacts=True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "The artifacts of process run r1 could not be saved: Downloading 'log.html' failed: "
        f"it could not be saved in '{tmp_path / 'process-runs' / 'r1' / 's1'}': Not a directory."
    ]


def test_a_failed_step_run_whose_id_is_no_id_is_said_so(ctx, http):
    http.answer(body={"id": "r1", "state": "unresolved", "process": {"name": "P"}})
    http.answer(body=page([]))
    http.answer(body=page([{"id": "s/1", "state": "failed"}]))
    message = failure_of(WaitingKeywords(ctx).wait_until_process_run_completes, "r1")
    assert message == (
        "Process run r1 of process 'P' ended unresolved. Control Room lists no failed work "
        "items.\nIts console messages could not be read: Control Room gave its step run an id "
        "that is no id."
    )


# --- raw Python errors become sentences ---------------------------------------------------


def test_an_on_timeout_from_python_that_is_no_choice_is_named(ctx, http):
    message = failure_of(
        WaitingKeywords(ctx).wait_until_process_run_completes, "r1", on_timeout="explode"
    )
    assert message == ("Argument 'on_timeout' must be one of fail, continue, stop, got 'explode'.")
    assert http.sent == []


def test_a_run_whose_process_is_no_object_is_still_waited_for(ctx, http):
    ended = {
        "id": "r1",
        "state": "completed",
        "process": "p1",
        "created_at": "2026-01-01T00:00:00Z",
        "ended_at": "2026-01-01T00:00:05Z",
    }
    http.answer(body={**ended, "state": "in_progress"})
    http.answer(body=ended)
    run = WaitingKeywords(ctx).wait_until_process_run_completes("r1", poll_interval="0.1 s")
    assert run["state"] == "completed"


def test_a_start_answer_is_quoted_in_at_most_200_characters(ctx, http):
    answer = {"started": False, "padding": "x" * 10_000}
    http.answer(body=answer)
    message = failure_of(WaitingKeywords(ctx).start_process_run_and_wait, "p1")
    assert message == (
        f"No process run of process 'p1' was started: Control Room answered {repr(answer)[:200]}...."
    )


def test_a_long_string_given_as_the_ids_of_a_group_is_cut_in_the_message(ctx, http):
    ids = "r" * 1000
    message = failure_of(WaitingKeywords(ctx).wait_until_process_runs_complete, ids)
    assert message == (
        "Argument 'process_run_ids' must be a non-empty list of ids, got "
        f"{repr(ids)[:200]}... (cut, 1000 characters in all)."
    )


@pytest.mark.parametrize(
    "keyword", ["start_process_run_and_wait", "wait_until_process_run_completes"]
)
def test_a_run_just_started_is_first_read_after_a_pause(ctx, http, monkeypatch, keyword):
    # The start's answer says the run exists and is new: reading it at once would say so
    # again. A wait on a run it did not start reads it at once.
    from ProcessRunLibrary import watching

    events: list[str] = []
    monkeypatch.setattr(watching.time, "sleep", lambda seconds: events.append("pause"))
    real_send = http.send

    def send(request, **kwargs):  # type: ignore[no-untyped-def]
        events.append(f"{request.method} {request.path_url.split('?')[0].rsplit('/', 1)[-1]}")
        return real_send(request, **kwargs)

    monkeypatch.setattr(http, "send", send)
    ended = {
        "id": "r1",
        "state": "completed",
        "process": {"id": "p1", "name": "P"},
        "created_at": "2026-01-01T00:00:00Z",
        "ended_at": "2026-01-01T00:00:05Z",
    }
    if keyword == "start_process_run_and_wait":
        http.answer(body={"started": True, "id": "r1"})
        http.answer(body=page([ended]))  # the first poll also reads the process's history
        WaitingKeywords(ctx).start_process_run_and_wait("p1")
        assert events == ["POST process-runs", "pause", "GET process-runs"]
    else:
        http.answer(body=ended)
        WaitingKeywords(ctx).wait_until_process_run_completes("r1")
        assert events == ["GET r1"]

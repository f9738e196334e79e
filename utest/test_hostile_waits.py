"""The end of a wait against a Control Room that sends absurd numbers: a run's
``duration`` too large for a float, or infinite, never crashes the wait nor swells its
log line (the HTTP layer faked)."""

from __future__ import annotations

import logging

import pytest

from ProcessRunLibrary.keywords.context import LibraryContext, Settings
from ProcessRunLibrary.keywords.diagnosis import html_table
from ProcessRunLibrary.keywords.waiting import WaitingKeywords
from ProcessRunLibrary.polling import Watched

ABSURD = ["1e400", "1" + "0" * 400, "1e308"]  # infinite, too large for a float, 10^300 years


@pytest.mark.parametrize("duration", ABSURD, ids=["inf", "10^400", "1e308"])
def test_a_completed_run_with_an_absurd_duration_ends_the_wait_without_it(
    client, http, caplog, duration, frozen_wait_clock
):
    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"], ctx.current_alias = client, "default"
    http.answer(body=f'{{"id": "r1", "state": "completed", "duration": {duration}}}')
    with caplog.at_level(logging.INFO):
        WaitingKeywords(ctx).wait_until_process_run_completes("r1")
    assert caplog.messages[-1] == (
        "Process run r1 ended completed after waiting 0 seconds (1 request)."
    )


@pytest.mark.parametrize("duration", [float("inf"), 10**400, 1e308], ids=["inf", "10^400", "1e308"])
def test_the_table_of_a_group_wait_leaves_an_absurd_duration_out(duration):
    run = {"id": "r1", "state": "completed", "process": {"name": "P"}, "duration": duration}
    assert html_table([Watched("r1", run)]) == (
        '<table border="1"><tr><th>Process run</th><th>Process</th><th>State</th>'
        "<th>Ran (Control Room's clock)</th></tr>"
        "<tr><td>r1</td><td>P</td><td>completed</td><td></td></tr></table>"
    )

"""The wait keywords: Wait Until Process Run(s) Complete(s), Start Process Run And Wait,
Process Run State Should Be and the two defaults. The loop itself is
``watching.poll_until_ended``; why a run failed is told by ``diagnosis``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from robot.api import logger
from robot.api.deco import keyword

from ..errors import (
    InvalidArgument,
    ProcessRunFailed,
    ProcessRunTimeout,
    StateMismatch,
)
from ..polling import Watched
from ..returns import ProcessRun
from ..text import counted, printable
from ..types import (
    CallbackEvent,
    Id,
    OnTimeout,
    ProcessRunState,
    Secret,
    Time,
    boolean,
    non_empty,
    path_segment,
    positive_time_argument,
    shown,
    time_argument,
    timestr,
)
from ..watching import poll_until_ended
from . import diagnosis
from .context import LibraryComponent
from .diagnosis import duration_text, html_table, ran, save_artifacts
from .processruns import start_request_body, start_run

LAST_READ = 0.5  # seconds that the last read of the state may take after the deadline
CONSOLE_AFTER = 10.0  # seconds; shorter waits do not write to the console


class WaitingKeywords(LibraryComponent):
    @keyword
    def wait_until_process_run_completes(
        self,
        process_run_id: Id,
        timeout: Time = None,
        poll_interval: Time = None,
        on_timeout: OnTimeout = OnTimeout.FAIL,
        fail_on_unresolved: bool = True,
        message: str | None = None,
        alias: str | None = None,
        *,
        expected_duration: Time = None,
        download_artifacts: bool = False,
    ) -> ProcessRun:
        """Waits until the process run has ended and returns it.

        A run has ended when its state is ``completed`` or ``unresolved`` (see
        `ProcessRunState`); a run that has already ended returns at once. The
        returned run is the one `Get Process Run` would return.

        ``timeout`` is the longest time to wait and defaults to the library's
        ``timeout`` (see `Importing` and `Set Process Run Timeout`). ``poll_interval``
        is the longest pause between two polls: the first polls come within a fraction
        of a second, then the pauses grow up to it (see `Waiting`).

        ``expected_duration`` (named only) is how long runs of this process take from
        their start request to their end, when you know better than their history:
        the wait then polls densely from 10 % before it to 10 % after it (see
        `Waiting`). By default the recent ended runs of the run's process predict it.

        When the run ends ``unresolved`` and ``fail_on_unresolved`` is true (the
        default), the keyword fails with a message that names the run, its process,
        its duration and its failed work items with their exceptions. With
        ``fail_on_unresolved=False`` it returns the run and lets you decide.

        When the time runs out, ``on_timeout`` decides (see `OnTimeout`): ``fail``
        (default), ``continue`` (warn and return the last run seen) or ``stop`` (stop
        the run in Control Room, then fail). ``message`` replaces the failure message.

        ``download_artifacts=True`` (named-only) saves, once the run has ended, the
        artifacts of each of its step runs into
        ``${OUTPUT DIR}/process-runs/<process run id>/<step run id>`` and logs a
        link to each file (see `Diagnosing a failed run`). A failed download is a
        warning, not a failure.

        The failure messages, word for word (how long the library waited is on this
        machine's clock, how long the run ran on Control Room's, and each message says
        which):
        - *It ends* ``unresolved``: ``Process run ID of process 'NAME' ended
          unresolved; by Control Room's clock it ran 1 minute 5 seconds. Failed work
          items: ITEM_ID (business exception NO_CUSTOMER: Order 42 has no
          customer.).`` Up to 5 items, separated by ``;``, then ``and more``;
          ``Control Room lists no failed work items.`` when there are none. Then, on
          lines of their own, ``Last console lines of step run STEP_RUN_ID (STEP):``
          and up to five of them, where Control Room has them.
        - *The timeout runs out,* ``on_timeout=fail``: ``Process run ID did not
          complete in 10 minutes; its last state was in_progress.`` It says ``its
          state could not be read`` when no poll succeeded, and adds ``(last error:
          ...)`` when the last one failed.
        - *The timeout runs out,* ``on_timeout=stop``: the same, then ``Asked Control
          Room to stop it: the stop was accepted.`` (or ``was not accepted.``, or
          ``Asking Control Room to stop it failed: ERROR``).
        - *The timeout runs out,* ``on_timeout=continue``: no failure; the same text
          as a warning, and the last run seen is returned.

        What Control Room sent (names, states, exceptions, console lines) is shown
        without terminal escape sequences and control characters, each value cut at
        200 characters, and the console tail comes from its newest 1,000 messages.

        A Robot Framework test or keyword timeout interrupts the wait within about a
        second. Errors that Control Room may recover from (no answer, 429, 5xx) do not
        end the wait: it goes on polling until ``timeout``.

        Examples:
        | ${run} = | Wait Until Process Run Completes | ${id} |
        | ${run} = | Wait Until Process Run Completes | ${id} | timeout=2 hours | poll_interval=1 minute |
        | ${run} = | Wait Until Process Run Completes | ${unresolved id} | fail_on_unresolved=False |
        | Should Be Equal | ${run.state} | unresolved |
        | Wait Until Process Run Completes | ${id} | timeout=10 min | on_timeout=stop |
        | ${run} = | Wait Until Process Run Completes | ${id} | expected_duration=3 min |
        | Wait Until Process Run Completes | ${id} | download_artifacts=True |
        """
        path_segment("process_run_id", process_run_id)
        options = self._options(
            timeout,
            poll_interval,
            on_timeout,
            fail_on_unresolved,
            message,
            expected_duration,
            download_artifacts,
        )
        return self._wait([process_run_id], options, alias)[0]

    @keyword
    def wait_until_process_runs_complete(
        self,
        process_run_ids: list[str],
        timeout: Time = None,
        poll_interval: Time = None,
        on_timeout: OnTimeout = OnTimeout.FAIL,
        fail_on_unresolved: bool = True,
        message: str | None = None,
        alias: str | None = None,
        *,
        expected_duration: Time = None,
        download_artifacts: bool = False,
    ) -> list[ProcessRun]:
        """Waits until every run in ``process_run_ids`` has ended; returns them in that order.

        The arguments are those of `Wait Until Process Run Completes`, and
        ``timeout`` is for the whole group. Runs of one process are read together
        from the list endpoint, so a polling round costs one request per process, not
        one per run. The failure message lists the runs that ended ``unresolved`` or
        did not end in time, not only the first, each in the words of the list in
        `Wait Until Process Run Completes`: the first 10 of them, then ``- and N
        more.`` log.html gets a table of the runs (the first 100).
        With ``expected_duration``, every run is expected to take that long from its
        creation.
        With ``download_artifacts=True`` the artifacts of every run that has ended
        are saved and linked.

        Examples:
        | @{ids} = | Create List | ${id1} | ${id2} | ${id3} |
        | ${runs} = | Wait Until Process Runs Complete | ${ids} | timeout=1 hour |
        | Should Be Equal | ${runs}[0][state] | completed |
        """
        if isinstance(process_run_ids, str) or not process_run_ids:
            raise InvalidArgument(
                f"Argument 'process_run_ids' must be a non-empty list of ids, got {shown(process_run_ids)}."
            )
        ids = list(process_run_ids)
        for run_id in ids:  # every id, before the first request
            path_segment("process_run_ids", run_id)
        options = self._options(
            timeout,
            poll_interval,
            on_timeout,
            fail_on_unresolved,
            message,
            expected_duration,
            download_artifacts,
        )
        return self._wait(ids, options, alias)

    @keyword
    def start_process_run_and_wait(
        self,
        process_id: Id,
        payload: Any = None,
        payloads: list[Any] | str | None = None,
        work_item_ids: list[str] | None = None,
        use_input_queue: bool = False,
        callback_url: str | None = None,
        callback_secret: str | Secret | None = None,
        callback_events: list[CallbackEvent] = None,
        timeout: Time = None,
        poll_interval: Time = None,
        on_timeout: OnTimeout = OnTimeout.FAIL,
        fail_on_unresolved: bool = True,
        message: str | None = None,
        alias: str | None = None,
        *,
        expected_duration: Time = None,
        download_artifacts: bool = False,
    ) -> ProcessRun:
        """Starts a process run and waits until it has ended; returns the final run.

        The same as `Start Process Run` followed by `Wait Until Process Run Completes`,
        with the arguments of both, and one request fewer: the run it has just started is
        surely ``new``, so it is first read after the first pause, not at once. Every
        argument is checked before the run is started.

        Examples:
        | ${run} = | Start Process Run And Wait | ${PROCESS} | payload={"order": 42} | timeout=15 min |
        | Should Be Equal | ${run.state} | completed |
        | ${run} = | Start Process Run And Wait | ${PROCESS} | fail_on_unresolved=False | download_artifacts=True |
        """
        options = self._options(  # bad arguments fail before the run is started
            timeout,
            poll_interval,
            on_timeout,
            fail_on_unresolved,
            message,
            expected_duration,
            download_artifacts,
        )
        non_empty("process_id", process_id)
        body = start_request_body(
            payload,
            payloads,
            work_item_ids,
            use_input_queue,
            callback_url,
            callback_secret,
            callback_events,
        )
        created = time.time()  # the prediction counts from here, not from Control Room's clock
        run_id = path_segment_id(start_run(self.ctx.client(alias), process_id, body))
        return self._wait([run_id], options, alias, started=(process_id, created))[0]

    @keyword
    def process_run_state_should_be(
        self,
        process_run_id: Id,
        expected_state: ProcessRunState,
        message: str | None = None,
        alias: str | None = None,
    ) -> None:
        """Fails unless the process run is now in ``expected_state``.

        Reads the state once; it does not wait. The failure message names both
        states, unless ``message`` replaces it.

        Examples:
        | Process Run State Should Be | ${done id} | completed |
        | Process Run State Should Be | ${running id} | in progress | message=The robot should still run |
        """
        run = self.ctx.client(alias).get_process_run(process_run_id)
        state = printable(run.get("state"))
        if run.get("state") != expected_state.value:
            raise StateMismatch(
                message or f"Process run {process_run_id} is {state}, not {expected_state.value}."
            )
        logger.info(f"Process run {process_run_id} is {state}.")

    @keyword
    def set_process_run_timeout(self, timeout: Time) -> str:
        """Sets the default ``timeout`` of the ``Wait ...`` keywords; returns the old one.

        Examples:
        | ${old} = | Set Process Run Timeout | 2 hours |
        | Set Process Run Timeout | ${old} |
        """
        old, self.ctx.timeout = self.ctx.timeout, time_argument("timeout", timeout)
        return timestr(old)

    @keyword
    def set_process_run_poll_interval(self, poll_interval: Time) -> str:
        """Sets the default ``poll_interval`` of the ``Wait ...`` keywords; returns the old one.

        Examples:
        | ${old} = | Set Process Run Poll Interval | 1 minute |
        """
        new = positive_time_argument("poll_interval", poll_interval)
        old, self.ctx.poll_interval = self.ctx.poll_interval, new
        return timestr(old)

    # --- the wait itself ---------------------------------------------------------------

    def _options(
        self,
        timeout: Any,
        poll_interval: Any,
        on_timeout: Any,
        fail_on_unresolved: Any,
        message: str | None,
        expected_duration: Any,
        download_artifacts: Any,
    ) -> WaitOptions:
        """The wait's arguments checked, once, with the library's defaults filled in."""
        boolean("fail_on_unresolved", fail_on_unresolved)
        boolean("download_artifacts", download_artifacts)
        return WaitOptions(
            timeout=self.ctx.timeout if timeout is None else time_argument("timeout", timeout),
            poll_interval=(
                self.ctx.poll_interval
                if poll_interval is None
                else positive_time_argument("poll_interval", poll_interval)
            ),
            on_timeout=_on_timeout(on_timeout),
            fail_on_unresolved=fail_on_unresolved,
            message=message,
            expected_duration=(
                None
                if expected_duration is None
                else positive_time_argument("expected_duration", expected_duration)
            ),
            download_artifacts=download_artifacts,
        )

    def _wait(
        self,
        ids: list[str],
        options: WaitOptions,
        alias: str | None,
        started: tuple[str, float] | None = None,
    ) -> list[Any]:
        client = self.ctx.client(alias)
        watched = [Watched(i) for i in dict.fromkeys(ids)]
        if started is not None:  # the run was just started: its process and age are known
            watched[0].process_hint, watched[0].created_hint = started
        what = f"process run {ids[0]}" if len(watched) == 1 else f"{len(watched)} process runs"
        logger.info(
            f"Waiting up to {duration_text(options.timeout)} for {what} to complete "
            f"(polling at most every {duration_text(options.poll_interval)})."
        )
        requests_before = client.request_count
        # The timeout bounds the whole wait: every request, retry and pause in it, and
        # the last read of the state and the failed-work-items lookup after it.
        with client.time_limit(options.timeout + LAST_READ):
            elapsed = poll_until_ended(
                client,
                watched,
                options.timeout,
                options.poll_interval,
                options.expected_duration,
                on_change=_log_change,
                just_started=started is not None,
            )
            _report(watched, elapsed, client.request_count - requests_before)
            texts, count = diagnosis.failures(
                client, watched, options.timeout, options.on_timeout, options.fail_on_unresolved
            )
        # Downloads come after the wait, outside its timeout: artifacts may be large.
        if options.download_artifacts:
            save_artifacts(client, watched)
        if count:
            _fail(texts, count, watched, options)
        by_id = {w.id: w for w in watched}
        return [by_id[i].run for i in ids]  # JsonDicts as the client parsed them


@dataclass(frozen=True)
class WaitOptions:
    """The arguments every wait keyword shares, checked and with defaults filled in."""

    timeout: float
    poll_interval: float
    on_timeout: OnTimeout
    fail_on_unresolved: bool
    message: str | None
    expected_duration: float | None
    download_artifacts: bool


def path_segment_id(run_id: str) -> str:
    """The id of a run the server just started: it goes into the URLs of the wait."""
    path_segment("process_run_id", run_id)
    return run_id


def _on_timeout(value: Any) -> OnTimeout:
    if isinstance(value, OnTimeout):
        return value
    try:  # the default, which Robot does not convert, or a call from Python
        return OnTimeout(value)
    except ValueError:
        choices = ", ".join(o.value for o in OnTimeout)
        raise InvalidArgument(
            f"Argument 'on_timeout' must be one of {choices}, got {shown(value)}."
        ) from None


def _log_change(w: Watched, elapsed: float) -> None:
    text = f"Process run {w.id} is {printable(w.state)} after waiting {duration_text(elapsed)}."
    logger.info(text, also_console=elapsed >= CONSOLE_AFTER)


def _report(watched: list[Watched], elapsed: float, requests: int) -> None:
    ended = sum(w.has_ended for w in watched)
    sent = counted(requests, "request")
    if len(watched) == 1:
        w = watched[0]
        verb = "ended" if w.has_ended else "was still"
        logger.info(
            f"Process run {w.id} {verb} {printable(w.state)} after waiting {duration_text(elapsed)} "
            f"({sent}){ran(w.run, '; ')}."
        )
        return
    logger.info(
        f"{ended} of {len(watched)} process runs ended after waiting {duration_text(elapsed)} "
        f"({sent})."
    )
    logger.info(html_table(watched), html=True)


def _fail(texts: list[str], count: int, watched: list[Watched], options: WaitOptions) -> None:
    """Fail the wait, or warn with on_timeout=continue when no run ended unresolved."""
    text = texts[0] if len(watched) == 1 else (
        f"{count} of {len(watched)} process runs did not complete:\n"
        + "\n".join(f"- {f}" for f in texts)
        + (f"\n- and {count - len(texts):,} more." if count > len(texts) else "")
    )  # fmt: skip
    unresolved_run = options.fail_on_unresolved and any(w.state == "unresolved" for w in watched)
    if options.on_timeout is OnTimeout.CONTINUE and not unresolved_run:
        logger.warn(f"{text} Continuing as on_timeout=continue.")
    elif all(w.has_ended for w in watched):
        raise ProcessRunFailed(options.message or text)
    else:
        raise ProcessRunTimeout(options.message or text)

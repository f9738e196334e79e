from __future__ import annotations

import html
import re
import time
from typing import TYPE_CHECKING, Any

from robot.api import logger
from robot.api.deco import keyword
from robot.utils import secs_to_timestr

from ..errors import (
    ControlRoomError,
    DownloadFailed,
    InvalidArgument,
    ProcessRunFailed,
    ProcessRunTimeout,
    StateMismatch,
)
from ..polling import PredictiveSchedule, RunWatcher, Watched, history_of
from ..returns import ProcessRun
from ..types import (
    CallbackEvent,
    Id,
    OnTimeout,
    ProcessRunState,
    Secret,
    Time,
    boolean,
    path_segment,
    positive_time_argument,
    time_argument,
    timestr,
)
from .context import LibraryComponent, to_dotdict

if TYPE_CHECKING:
    from ..client import ControlRoomClient
from .processruns import ProcessRunKeywords
from .stepruns import artifact_links, id_argument, output_dir, save_step_run_artifacts

LAST_READ = 0.5  # seconds that the last read of the state may take after the deadline
CONSOLE_AFTER = 10.0  # seconds; shorter waits do not write to the console
FAILED_ITEMS_SHOWN = 5
CONSOLE_LINES_SHOWN = 5  # of the failed step run, in the failure message
CONSOLE_LINE_CHARS = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def _timestr(seconds: float) -> str:
    return secs_to_timestr(round(seconds, 1)) if seconds >= 0.1 else "0 seconds"


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
        | = When =                     | = Message =                                              |
        | it ends ``unresolved``       | ``Process run ID of process 'NAME' ended unresolved; by Control Room's clock it ran 1 minute 5 seconds. Failed work items: ITEM_ID (business exception NO_CUSTOMER: Order 42 has no customer.).`` Up to 5 items separated by ``;``, then ``and more``; ``Control Room lists no failed work items.`` when there are none. Then, on lines of their own, ``Last console lines of step run STEP_RUN_ID (STEP):`` and up to five of them, each cut at 200 characters, where Control Room has them. |
        | ``timeout`` runs out, ``fail`` | ``Process run ID did not complete in 10 minutes; its last state was in_progress.`` (``its state could not be read`` when no poll succeeded, ``(last error: ...)`` when the last one failed) |
        | ``timeout`` runs out, ``stop`` | the same, then ``Asked Control Room to stop it: the stop was accepted.`` (or ``was not accepted.``, or ``Asking Control Room to stop it failed: ERROR``) |
        | ``timeout`` runs out, ``continue`` | no failure: the same text as a warning, and the last run seen is returned |

        A Robot Framework test or keyword timeout interrupts the wait within about a
        second. Errors that Control Room may recover from (no answer, 429, 5xx) do not
        end the wait: it goes on polling until ``timeout``.

        Examples:
        | ${run} = | Wait Until Process Run Completes | ${id} |
        | ${run} = | Wait Until Process Run Completes | ${id} | timeout=2 hours | poll_interval=1 minute |
        | ${run} = | Wait Until Process Run Completes | ${id} | fail_on_unresolved=False |
        | Should Be Equal | ${run.state} | unresolved |
        | Wait Until Process Run Completes | ${id} | timeout=10 min | on_timeout=stop |
        | ${run} = | Wait Until Process Run Completes | ${id} | expected_duration=3 min |
        | Wait Until Process Run Completes | ${id} | download_artifacts=True |
        """
        return self._wait(
            [process_run_id],
            timeout,
            poll_interval,
            on_timeout,
            fail_on_unresolved,
            message,
            alias,
            expected_duration=expected_duration,
            download_artifacts=download_artifacts,
        )[0]

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
        one per run. The failure message lists every run that ended ``unresolved`` or
        did not end in time, not only the first, each in the words of the table in
        `Wait Until Process Run Completes`. log.html gets a table of the runs.
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
                f"Argument 'process_run_ids' must be a non-empty list of ids, got {process_run_ids!r}."
            )
        return self._wait(
            list(process_run_ids),
            timeout,
            poll_interval,
            on_timeout,
            fail_on_unresolved,
            message,
            alias,
            expected_duration=expected_duration,
            download_artifacts=download_artifacts,
        )

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
        with the arguments of both. Every argument is checked before the run is started.

        Examples:
        | ${run} = | Start Process Run And Wait | ${PROCESS} | payload={"order": 42} | timeout=15 min |
        | Should Be Equal | ${run.state} | completed |
        | ${run} = | Start Process Run And Wait | ${PROCESS} | fail_on_unresolved=False | download_artifacts=True |
        """
        self._wait_settings(timeout, poll_interval)  # bad arguments fail before starting
        boolean("fail_on_unresolved", fail_on_unresolved)
        _expected_duration(expected_duration)
        created = time.time()  # the prediction counts from here, not from Control Room's clock
        boolean("download_artifacts", download_artifacts)
        run_id = ProcessRunKeywords(self.ctx).start_process_run(
            process_id,
            payload,
            payloads,
            work_item_ids,
            use_input_queue,
            callback_url,
            callback_secret,
            callback_events,
            alias,
        )
        return self._wait(
            [run_id],
            timeout,
            poll_interval,
            on_timeout,
            fail_on_unresolved,
            message,
            alias,
            expected_duration=expected_duration,
            started=(process_id, created),
            download_artifacts=download_artifacts,
        )[0]

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
        | Process Run State Should Be | ${id} | completed |
        | Process Run State Should Be | ${id} | in progress | message=The robot should still run |
        """
        run = self.ctx.client(alias).get_process_run(process_run_id)
        state = run.get("state")
        if state != expected_state.value:
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

    def _wait_settings(self, timeout: Any, poll_interval: Any) -> tuple[float, float]:
        timeout = self.ctx.timeout if timeout is None else time_argument("timeout", timeout)
        poll_interval = (
            self.ctx.poll_interval
            if poll_interval is None
            else positive_time_argument("poll_interval", poll_interval)
        )
        return timeout, poll_interval

    def _wait(
        self,
        ids: list[str],
        timeout: Any,
        poll_interval: Any,
        on_timeout: OnTimeout,
        fail_on_unresolved: bool,
        message: str | None,
        alias: str | None,
        *,
        expected_duration: Any = None,
        started: tuple[str, float] | None = None,
        download_artifacts: bool = False,
    ) -> list[Any]:
        for run_id in ids:  # every id, before the first request
            path_segment("process_run_id" if len(ids) == 1 else "process_run_ids", run_id)
        boolean("fail_on_unresolved", fail_on_unresolved)
        boolean("download_artifacts", download_artifacts)
        timeout, interval = self._wait_settings(timeout, poll_interval)
        expected = _expected_duration(expected_duration)
        if isinstance(on_timeout, str):  # the default, which Robot does not convert
            on_timeout = OnTimeout(on_timeout)
        client = self.ctx.client(alias)
        watched = [Watched(i) for i in dict.fromkeys(ids)]
        if started is not None:  # the run was just started: its process and age are known
            watched[0].process_hint, watched[0].created_hint = started
        what = f"process run {ids[0]}" if len(watched) == 1 else f"{len(watched)} process runs"
        logger.info(
            f"Waiting up to {_timestr(timeout)} for {what} to complete "
            f"(polling at most every {_timestr(interval)})."
        )
        requests_before = client.request_count
        # The timeout bounds the whole wait: every request, retry and pause in it, and
        # the last read of the state and the failed-work-items lookup after it.
        with client.time_limit(timeout + LAST_READ):
            elapsed = _poll_until_ended(client, watched, timeout, interval, expected)
            self._report(watched, elapsed, client.request_count - requests_before)
            failures = self._failures(client, watched, timeout, on_timeout, fail_on_unresolved)
        # Downloads come after the wait, outside its timeout: artifacts may be large.
        if download_artifacts:
            _save_artifacts(client, watched)
        if failures:
            text = failures[0] if len(watched) == 1 else (
                f"{len(failures)} of {len(watched)} process runs did not complete:\n"
                + "\n".join(f"- {f}" for f in failures)
            )  # fmt: skip
            unresolved = fail_on_unresolved and any(w.state == "unresolved" for w in watched)
            if on_timeout is OnTimeout.CONTINUE and not unresolved:
                logger.warn(f"{text} Continuing as on_timeout=continue.")
            elif all(w.has_ended for w in watched):
                raise ProcessRunFailed(message or text)
            else:
                raise ProcessRunTimeout(message or text)
        by_id = {w.id: w for w in watched}
        return [to_dotdict(by_id[i].run) for i in ids]

    def _report(self, watched: list[Watched], elapsed: float, requests: int) -> None:
        ended = sum(w.has_ended for w in watched)
        if len(watched) == 1:
            w = watched[0]
            verb = "ended" if w.has_ended else "was still"
            logger.info(
                f"Process run {w.id} {verb} {w.state} after waiting {_timestr(elapsed)} "
                f"({requests} request{'s' if requests != 1 else ''}){_ran(w.run, '; ')}."
            )
            return
        logger.info(
            f"{ended} of {len(watched)} process runs ended after waiting {_timestr(elapsed)} "
            f"({requests} request{'s' if requests != 1 else ''})."
        )
        logger.info(_html_table(watched), html=True)

    def _failures(
        self,
        client: ControlRoomClient,
        watched: list[Watched],
        timeout: float,
        on_timeout: OnTimeout,
        fail_on_unresolved: bool,
    ) -> list[str]:
        failures = []
        for w in watched:
            if w.state == "unresolved" and fail_on_unresolved:
                failures.append(_unresolved(client, w) + _console_tail(client, w))
            elif not w.has_ended:
                failures.append(self._timed_out(client, w, timeout, on_timeout))
        return failures

    def _timed_out(
        self, client: ControlRoomClient, w: Watched, timeout: float, on_timeout: OnTimeout
    ) -> str:
        text = f"Process run {w.id} did not complete in {_timestr(timeout)}; "
        if w.run is None:
            text += "its state could not be read"
        else:
            text += f"its last state was {w.state}"
        if w.error is not None:
            text += f" (last error: {w.error})"
        text += "."
        if on_timeout is OnTimeout.STOP:
            try:
                with client.time_limit(None):  # the stop comes after the timeout: its own time
                    answer = client.stop_process_run(w.id, reason="Timed out in Robot Framework")
                accepted = answer.get("accepted")
            except ControlRoomError as error:
                return f"{text} Asking Control Room to stop it failed: {error}"
            outcome = "accepted" if accepted else "not accepted"
            text += f" Asked Control Room to stop it: the stop was {outcome}."
        return text


def _expected_duration(value: Any) -> float | None:
    return None if value is None else positive_time_argument("expected_duration", value)


def _poll_until_ended(
    client: ControlRoomClient,
    watched: list[Watched],
    timeout: float,
    interval: float,
    expected: float | None = None,
) -> float:
    """Poll until every run has ended or ``timeout`` has passed; return the time taken."""
    started = time.monotonic()
    deadline = started + timeout
    history = history_of(client)
    watcher = RunWatcher(client, history)
    schedule = PredictiveSchedule(interval, watched, history, expected)
    while True:
        before = {w.id: w.state for w in watched}
        # The wait's time limit bounds each poll; the last one, at the deadline, gets
        # LAST_READ seconds.
        watcher.poll(watched)
        elapsed = time.monotonic() - started
        for w in watched:
            if w.state != before[w.id]:
                text = f"Process run {w.id} is {w.state} after waiting {_timestr(elapsed)}."
                logger.info(text, also_console=elapsed >= CONSOLE_AFTER)
        remaining = deadline - time.monotonic()
        if all(w.has_ended for w in watched) or remaining <= 0:
            return time.monotonic() - started
        time.sleep(min(schedule.next_pause(), remaining))


def _unresolved(client: ControlRoomClient, w: Watched) -> str:
    run = w.run or {}
    process = run.get("process") or {}
    text = f"Process run {w.id} of process '{process.get('name') or process.get('id')}' ended unresolved"
    text += _ran(run, "; ")
    try:
        items = client.list_work_items(
            process_run_id=w.id, state="failed", limit=FAILED_ITEMS_SHOWN + 1
        )
    except ControlRoomError as error:
        return f"{text}. Its failed work items could not be read: {error}"
    if not items:
        return f"{text}. Control Room lists no failed work items."
    shown = "; ".join(_failed_item(i) for i in items[:FAILED_ITEMS_SHOWN])
    more = " and more" if len(items) > FAILED_ITEMS_SHOWN else ""
    return f"{text}. Failed work items: {shown}{more}."


def _console_tail(client: ControlRoomClient, w: Watched) -> str:
    """The last console lines of the run's failed step run, for the failure message;
    '' when no step run failed or it printed nothing."""
    try:
        failed = [s for s in client.list_step_runs(w.id) if s.get("state") == "failed"]
        if not failed:
            return ""
        step_run = failed[-1]
        messages = client.list_step_run_console_messages(str(step_run.get("id")))
    except ControlRoomError as error:
        return f"\nIts console messages could not be read: {error}"
    lines = console_lines(messages)[-CONSOLE_LINES_SHOWN:]
    if not lines:
        return ""
    name = (step_run.get("step") or {}).get("name")
    which = f"step run {step_run.get('id')}" + (f" ({name})" if name else "")
    shown = "".join(f"\n    {line}" for line in lines)
    return f"\nLast console lines of {which}:{shown}"


def console_lines(messages: list[Any]) -> list[str]:
    """The printable lines of console messages: terminal escape sequences and control
    characters removed, blank lines dropped, each cut at CONSOLE_LINE_CHARS."""
    lines = []
    for entry in messages:
        text = entry.get("message") if isinstance(entry, dict) else None
        for line in _ANSI.sub("", text if isinstance(text, str) else "").splitlines():
            line = "".join(c for c in line if c.isprintable()).rstrip()
            if line.strip():
                cut = len(line) > CONSOLE_LINE_CHARS
                lines.append(line[:CONSOLE_LINE_CHARS] + ("..." if cut else ""))
    return lines


def _save_artifacts(client: ControlRoomClient, watched: list[Watched]) -> None:
    """download_artifacts=True: save the artifacts of every step run of each run that
    has ended into ${OUTPUT DIR}/process-runs/<run id>/<step run id>, and link them in
    log.html. A failed download is a warning: the wait's outcome is what matters."""
    for w in watched:
        if not w.has_ended:
            continue
        try:
            id_argument("process run id", w.id)  # it names a folder
            saved = []
            for step_run in client.list_step_runs(w.id):
                step_id = id_argument("step run id", str(step_run.get("id")))
                folder = output_dir() / "process-runs" / w.id / step_id
                saved.append((step_run, save_step_run_artifacts(client, step_id, folder)))
        except (ControlRoomError, DownloadFailed, InvalidArgument, OSError) as error:
            logger.warn(f"The artifacts of process run {w.id} could not be saved: {error}")
            continue
        logger.info(artifact_links(w.id, saved), html=True)


def _ran(run: dict[str, Any] | None, before: str) -> str:
    """How long the run ran, by Control Room's clock (its ``duration``), after `before`;
    empty while it has none. The wait's own figures are on this machine's clock: with the
    emulator's ``clock_factor`` the two differ by that factor."""
    duration = (run or {}).get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        return ""
    return f"{before}by Control Room's clock it ran {_timestr(float(duration))}"


def _failed_item(item: dict[str, Any]) -> str:
    exception = item.get("exception") or {}
    kind = exception.get("type") or "unspecified"
    code = f" {exception['code']}" if exception.get("code") else ""
    message = exception.get("message") or "no message"
    return f"{item.get('id')} ({kind} exception{code}: {message})"


def _html_table(watched: list[Watched]) -> str:
    rows = []
    for w in watched:
        run = w.run or {}
        duration = run.get("duration")
        cells = (
            w.id,
            ((run.get("process") or {}).get("name")) or "",
            w.state or "unknown",
            _timestr(float(duration)) if isinstance(duration, (int, float)) else "",
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    headings = ("Process run", "Process", "State", "Ran (Control Room's clock)")
    head = "".join(f"<th>{h}</th>" for h in headings)
    return f'<table border="1"><tr>{head}</tr>{"".join(rows)}</table>'

"""Why a wait failed, told in its message and log: a run that did not end in time (and
its stop), a run that ended unresolved with its failed work items and the last console
lines of its failed step run; the artifacts saved and linked, and the table of a group's
runs. Everything the server sent is untrusted: every field is checked for its shape and
every string goes through ``text.printable`` before it reaches a message or the log."""

from __future__ import annotations

import html
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robot.api import logger
from robot.utils import secs_to_timestr

from ..errors import ControlRoomError, DownloadFailed, InvalidArgument
from ..polling import Watched
from ..text import printable
from ..types import OnTimeout
from .stepruns import artifact_links, id_argument, output_dir, save_step_run_artifacts

if TYPE_CHECKING:
    from ..client import ControlRoomClient

FAILED_ITEMS_SHOWN = 5
CONSOLE_LINES_SHOWN = 5  # of the failed step run, in the failure message
CONSOLE_LINE_CHARS = 200
CONSOLE_MESSAGES_KEPT = 1000  # the newest messages of a console, kept while it is read
FAILURES_LISTED = 10  # runs named in the failure message of a group wait
TABLE_ROWS = 100  # runs in the log.html table of a group wait


MAX_DURATION = 100 * 365 * 24 * 3600  # seconds: a century


def duration_text(seconds: float) -> str:
    """Seconds as Robot writes times, to a tenth of a second."""
    return secs_to_timestr(round(seconds, 1)) if seconds >= 0.1 else "0 seconds"


def ran(run: dict[str, Any] | None, before: str) -> str:
    """How long the run ran, by Control Room's clock (its ``duration``), after `before`;
    empty while it has none. The wait's own figures are on this machine's clock: with the
    emulator's ``clock_factor`` the two differ by that factor."""
    duration = run_seconds(run)
    return (
        ""
        if duration is None
        else f"{before}by Control Room's clock it ran {duration_text(duration)}"
    )


def run_seconds(run: dict[str, Any] | None) -> float | None:
    """The run's ``duration`` in seconds; ``None`` when it has none, or one no run can
    have (infinite, beyond a float, over a century: a server's nonsense)."""
    duration = (run or {}).get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        return None
    return float(duration) if abs(duration) <= MAX_DURATION else None


def failures(
    client: ControlRoomClient,
    watched: list[Watched],
    timeout: float,
    on_timeout: OnTimeout,
    fail_on_unresolved: bool,
) -> tuple[list[str], int]:
    """What went wrong with the first FAILURES_LISTED runs that did not complete, and how
    many did not. Only listed runs are diagnosed; every run that timed out is stopped
    with on_timeout=stop."""
    texts: list[str] = []
    count = 0
    for w in watched:
        if w.state == "unresolved" and fail_on_unresolved:
            text = _unresolved(client, w) if count < FAILURES_LISTED else ""
        elif not w.has_ended:
            text = _timed_out(client, w, timeout, on_timeout)
        else:
            continue
        count += 1
        if len(texts) < FAILURES_LISTED:
            texts.append(text)
    return texts, count


def _timed_out(client: ControlRoomClient, w: Watched, timeout: float, on_timeout: OnTimeout) -> str:
    text = f"Process run {w.id} did not complete in {duration_text(timeout)}; "
    if w.run is None:
        text += "its state could not be read"
    else:
        text += f"its last state was {printable(w.state)}"
    if w.error is not None:
        text += f" (last error: {said(w.error)})"
    text += "."
    if on_timeout is OnTimeout.STOP:
        try:
            with client.time_limit(None):  # the stop comes after the timeout: its own time
                answer = client.stop_process_run(w.id, reason="Timed out in Robot Framework")
            accepted = answer.get("accepted")
        except ControlRoomError as error:
            return f"{text} Asking Control Room to stop it failed: {said(error)}"
        outcome = "accepted" if accepted else "not accepted"
        text += f" Asked Control Room to stop it: the stop was {outcome}."
    return text


def _unresolved(client: ControlRoomClient, w: Watched) -> str:
    """The failure message of a run that ended unresolved: its failed work items and
    the console tail of its failed step run."""
    return _failed_items(client, w) + _console_tail(client, w)


def _failed_items(client: ControlRoomClient, w: Watched) -> str:
    run = w.run or {}
    process = _object(run.get("process"))
    name = printable(process.get("name") or process.get("id"))
    text = f"Process run {w.id} of process '{name}' ended unresolved" + ran(run, "; ")
    try:
        items = client.list_work_items(
            process_run_id=w.id, state="failed", limit=FAILED_ITEMS_SHOWN + 1
        )
    except ControlRoomError as error:
        return f"{text}. Its failed work items could not be read: {said(error)}"
    if not items:
        return f"{text}. Control Room lists no failed work items."
    shown = "; ".join(_failed_item(i) for i in items[:FAILED_ITEMS_SHOWN])
    more = " and more" if len(items) > FAILED_ITEMS_SHOWN else ""
    return f"{text}. Failed work items: {shown}{more}."


def _failed_item(item: dict[str, Any]) -> str:
    exception = _object(item.get("exception"))
    kind = printable(exception.get("type") or "unspecified")
    code = printable(exception.get("code") or "")
    code = f" {code}" if code else ""
    message = printable(exception.get("message") or "no message")
    return f"{printable(item.get('id'))} ({kind} exception{code}: {message})"


def _console_tail(client: ControlRoomClient, w: Watched) -> str:
    """The last console lines of the run's failed step run, for the failure message;
    '' when no step run failed or it printed nothing.

    Only the newest messages are kept while the pages are read, and only as many of
    them are cleaned as the tail needs: a console of millions of messages costs its
    requests, which the wait's time limit bounds, and little else."""
    try:
        failed = [s for s in client.list_step_runs(w.id) if s.get("state") == "failed"]
        if not failed:
            return ""
        step_run = failed[-1]
        pages = client.iter_step_run_console_messages(str(step_run.get("id")))
        messages = deque(pages, maxlen=CONSOLE_MESSAGES_KEPT)
    except ControlRoomError as error:
        return f"\nIts console messages could not be read: {said(error)}"
    except InvalidArgument:
        return "\nIts console messages could not be read: Control Room gave its step run an id that is no id."
    lines = last_console_lines(messages, CONSOLE_LINES_SHOWN)
    if not lines:
        return ""
    name = printable(_object(step_run.get("step")).get("name") or "")
    which = f"step run {step_run.get('id')}" + (f" ({name})" if name else "")
    shown = "".join(f"\n    {line}" for line in lines)
    return f"\nLast console lines of {which}:{shown}"


def console_lines(messages: Iterable[Any]) -> list[str]:
    """The printable lines of console messages: terminal escape sequences and control
    characters removed, blank lines dropped, each cut at CONSOLE_LINE_CHARS."""
    return [line for entry in messages for line in _lines(entry)]


def last_console_lines(messages: Sequence[Any], count: int) -> list[str]:
    """The last ``count`` lines of :func:`console_lines`, reading messages from the end."""
    lines: list[str] = []
    for entry in reversed(messages):
        lines[:0] = _lines(entry)[-(count - len(lines)) :]
        if len(lines) >= count:
            break
    return lines


def _lines(entry: Any) -> list[str]:
    text = entry.get("message") if isinstance(entry, dict) else None
    if not isinstance(text, str):
        return []
    cleaned = (printable(line, CONSOLE_LINE_CHARS).rstrip() for line in text.splitlines())
    return [line for line in cleaned if line.strip()]


def save_artifacts(client: ControlRoomClient, watched: list[Watched]) -> None:
    """download_artifacts=True: save the artifacts of every step run of each run that
    has ended into ${OUTPUT DIR}/process-runs/<run id>/<step run id>, and link them in
    log.html. A failed download is a warning, whatever the server sent: the wait's
    outcome is what matters."""
    for w in watched:
        if not w.has_ended:
            continue
        try:
            saved = _save_run_artifacts(client, w.id)
        except (ControlRoomError, DownloadFailed, InvalidArgument) as error:
            why = said(error)
        except UnicodeError:  # a lone surrogate in a name: no file system takes it
            why = "a file name from Control Room cannot be written on this machine's file system."
        except OSError as error:
            where = f"'{error.filename}'" if error.filename else "a file"
            why = f"{where} could not be written ({error.strerror or 'the system refused'})."
        else:
            logger.info(artifact_links(w.id, saved), html=True)
            continue
        logger.warn(f"The artifacts of process run {w.id} could not be saved: {why}")


def _save_run_artifacts(
    client: ControlRoomClient, run_id: str
) -> list[tuple[dict[str, Any], list[Path]]]:
    id_argument("process run id", run_id)  # it names a folder
    saved = []
    for step_run in client.list_step_runs(run_id):
        step_id = id_argument("step run id", str(step_run.get("id")))
        folder = output_dir() / "process-runs" / run_id / step_id
        saved.append(
            (_step_run_shown(step_run, step_id), save_step_run_artifacts(client, step_id, folder))
        )
    return saved


def _step_run_shown(step_run: dict[str, Any], step_id: str) -> dict[str, Any]:
    """The fields of a step run that its links show, in the shape they are read in."""
    name = _object(step_run.get("step")).get("name")
    return {
        "id": step_id,
        "state": printable(step_run.get("state") or ""),
        "step": {"name": "" if name is None else printable(name)},
    }


def html_table(watched: list[Watched]) -> str:
    """The runs of a group wait as a table for log.html, at most TABLE_ROWS of them."""
    rows = [_row(w) for w in watched[:TABLE_ROWS]]
    if len(watched) > TABLE_ROWS:
        more = len(watched) - TABLE_ROWS
        rows.append(f'<tr><td colspan="4">and {more:,} more process runs</td></tr>')
    headings = ("Process run", "Process", "State", "Ran (Control Room's clock)")
    head = "".join(f"<th>{h}</th>" for h in headings)
    return f'<table border="1"><tr>{head}</tr>{"".join(rows)}</table>'


def _row(w: Watched) -> str:
    run = w.run or {}
    duration = run_seconds(run)
    cells = (
        w.id,
        printable(_object(run.get("process")).get("name") or ""),
        printable(w.state or "unknown"),
        "" if duration is None else duration_text(duration),
    )
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def said(error: Exception) -> str:
    """The text of one of the library's errors, which may quote the server, made safe."""
    return printable(error, limit=None)


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of the server's, or an empty one when it sent something else."""
    return value if isinstance(value, dict) else {}

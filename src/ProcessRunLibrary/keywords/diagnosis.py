"""Why a waited-for run failed, told in the wait's message and log: its failed work
items, the last console lines of its failed step run, its artifacts saved and linked,
and the table of a group's runs. Everything here comes from the server and is untrusted."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from robot.api import logger
from robot.utils import secs_to_timestr

from ..errors import ControlRoomError, DownloadFailed, InvalidArgument
from ..polling import Watched
from .stepruns import artifact_links, id_argument, output_dir, save_step_run_artifacts

if TYPE_CHECKING:
    from ..client import ControlRoomClient

FAILED_ITEMS_SHOWN = 5
CONSOLE_LINES_SHOWN = 5  # of the failed step run, in the failure message
CONSOLE_LINE_CHARS = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def duration_text(seconds: float) -> str:
    """Seconds as Robot writes times, to a tenth of a second."""
    return secs_to_timestr(round(seconds, 1)) if seconds >= 0.1 else "0 seconds"


def ran(run: dict[str, Any] | None, before: str) -> str:
    """How long the run ran, by Control Room's clock (its ``duration``), after `before`;
    empty while it has none. The wait's own figures are on this machine's clock: with the
    emulator's ``clock_factor`` the two differ by that factor."""
    duration = (run or {}).get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        return ""
    return f"{before}by Control Room's clock it ran {duration_text(float(duration))}"


def unresolved(client: ControlRoomClient, w: Watched) -> str:
    """The failure message of a run that ended unresolved: its failed work items and
    the console tail of its failed step run."""
    return _failed_items(client, w) + _console_tail(client, w)


def _failed_items(client: ControlRoomClient, w: Watched) -> str:
    run = w.run or {}
    process = run.get("process") or {}
    text = f"Process run {w.id} of process '{process.get('name') or process.get('id')}' ended unresolved"
    text += ran(run, "; ")
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


def _failed_item(item: dict[str, Any]) -> str:
    exception = item.get("exception") or {}
    kind = exception.get("type") or "unspecified"
    code = f" {exception['code']}" if exception.get("code") else ""
    message = exception.get("message") or "no message"
    return f"{item.get('id')} ({kind} exception{code}: {message})"


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


def save_artifacts(client: ControlRoomClient, watched: list[Watched]) -> None:
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


def html_table(watched: list[Watched]) -> str:
    """The runs of a group wait as a table for log.html."""
    rows = []
    for w in watched:
        run = w.run or {}
        duration = run.get("duration")
        cells = (
            w.id,
            ((run.get("process") or {}).get("name")) or "",
            w.state or "unknown",
            duration_text(float(duration)) if isinstance(duration, (int, float)) else "",
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    headings = ("Process run", "Process", "State", "Ran (Control Room's clock)")
    head = "".join(f"<th>{h}</th>" for h in headings)
    return f'<table border="1"><tr>{head}</tr>{"".join(rows)}</table>'

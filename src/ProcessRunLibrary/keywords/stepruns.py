"""Step runs: what a run's robot did, its console messages and its artifacts; and the
keywords that download files (step run artifacts, process run output files)."""

from __future__ import annotations

import html
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from robot.api import logger
from robot.api.deco import keyword

from ..errors import ControlRoomError, InvalidArgument
from ..text import counted
from ..types import Id, non_empty, path_segment, positive_int, shown
from .context import LibraryComponent, found

if TYPE_CHECKING:
    from ..client import ControlRoomClient
    from ..client.downloads import RemoteFile


class StepRunKeywords(LibraryComponent):
    @keyword
    def list_step_runs(
        self, process_run_id: Id, limit: int | None = None, alias: str | None = None
    ) -> list[Any]:
        """Returns the step runs of the process run ``process_run_id``, following every page.

        A process runs its steps in order; each step run has ``id``, ``state``
        (``new``, ``awaiting_worker``, ``in_progress``, ``completed`` or ``failed``),
        ``state_updated_at``, ``started_at``, ``ended_at``, ``duration`` (seconds,
        empty until it ends), ``error`` (``code``, empty unless it failed) and
        ``step`` (``id``, ``name``). ``limit`` returns at most that many and is sent
        as the page size.

        Fails when ``process_run_id`` is not an id or ``limit`` not a positive
        integer (before any request), or when Control Room refuses the request.

        Examples:
        | ${steps} = | List Step Runs | ${run id} |
        | Should Be Equal | ${steps}[0][state] | completed |
        | Log | ${steps}[-1][step][name] took ${steps}[-1][duration] seconds |
        """
        id_argument("process_run_id", process_run_id)
        positive_int("limit", limit)
        steps = self.ctx.client(alias).list_step_runs(process_run_id, limit)
        return found(steps, "step run", of=f" of process run {process_run_id}")

    @keyword
    def get_step_run(self, step_run_id: Id, alias: str | None = None) -> Any:
        """Returns the step run ``step_run_id``, with the fields `List Step Runs` lists.

        Fails when ``step_run_id`` is not an id (before any request) or when the step
        run does not exist.

        Examples:
        | ${step} = | Get Step Run | ${step id} |
        | Should Be Equal | ${step.state} | failed |
        | Log | ${step.error.code} |
        """
        id_argument("step_run_id", step_run_id)
        return self.ctx.client(alias).get_step_run(step_run_id)

    @keyword
    def list_step_run_console_messages(
        self, step_run_id: Id, alias: str | None = None
    ) -> list[Any]:
        """Returns every console message of the step run, oldest first, following every page.

        Each message has ``timestamp`` and ``message``: what the robot printed to its
        console. The API has no ``limit`` here. The failure message of a ``Wait ...``
        keyword already shows the last five lines of the step run that failed (see
        `Diagnosing a failed run`).

        Fails when ``step_run_id`` is not an id (before any request) or when Control
        Room refuses the request.

        Examples:
        | ${messages} = | List Step Run Console Messages | ${step id} |
        | Should Contain | ${messages}[-1][message] | Invoice 42 failed |
        """
        id_argument("step_run_id", step_run_id)
        messages = self.ctx.client(alias).list_step_run_console_messages(step_run_id)
        return found(messages, "console message", of=f" of step run {step_run_id}")

    @keyword
    def list_step_run_artifacts(
        self, step_run_id: Id, limit: int | None = None, alias: str | None = None
    ) -> list[Any]:
        """Returns the artifacts of the step run (``id``, ``name``, ``size``), following every page.

        Artifacts are the files the robot left in its output folder, typically its
        ``log.html`` and ``output.xml``. `Download Step Run Artifacts` saves them.
        ``limit`` returns at most that many and is sent as the page size.

        Fails when ``step_run_id`` is not an id or ``limit`` not a positive integer
        (before any request), or when Control Room refuses the request.

        Examples:
        | ${artifacts} = | List Step Run Artifacts | ${step id} |
        | ${names} = | Evaluate | [artifact.name for artifact in $artifacts] |
        | Should Contain | ${names} | log.html |
        """
        id_argument("step_run_id", step_run_id)
        positive_int("limit", limit)
        artifacts = self.ctx.client(alias).list_step_run_artifacts(step_run_id, limit)
        return found(artifacts, "artifact", of=f" of step run {step_run_id}")

    @keyword
    def download_step_run_artifacts(
        self,
        step_run_id: Id,
        directory: str | None = None,
        pattern: str = "*",
        alias: str | None = None,
    ) -> list[str]:
        """Saves the artifacts of the step run into ``directory``; returns the paths saved.

        ``directory`` defaults to ``${OUTPUT DIR}/step-runs/<step run id>`` and is
        created when a file is saved. ``pattern`` is a glob (``*``, ``?``, ``[abc]``,
        case-sensitive) that the file names must match, for example ``*.html``.
        Each artifact's download URL is asked for just before it is downloaded. See
        `Downloads` for how files are streamed, named and limited in size. Beyond what
        it says: names are normalised to Unicode NFC, so two names that differ only in
        normalisation (``café`` written with one character or two) or in case are one
        name and the second is numbered; every name Windows reserves, with any
        extension and in any case (``CON``, ``PRN``, ``AUX``, ``NUL``, ``CONIN$``,
        ``CONOUT$``, ``COM0``-``COM9``, ``LPT0``-``LPT9`` and ``COM¹``-``COM³``,
        ``LPT¹``-``LPT³``), gets a leading ``_``: ``nul.txt`` is saved as ``_nul.txt``.

        Fails when an argument is bad (before any request), when Control Room refuses
        a request, or when a download fails; the files saved before stay.

        Examples:
        | ${paths} = | Download Step Run Artifacts | ${step id} |
        | ${paths} = | Download Step Run Artifacts | ${step id} | ${TEMPDIR}/child | pattern=*.html |
        | File Should Exist | ${paths}[0] |
        """
        id_argument("step_run_id", step_run_id)
        folder = _directory(directory, Path("step-runs", step_run_id))
        non_empty("pattern", pattern)
        client = self.ctx.client(alias)
        paths = save_step_run_artifacts(client, step_run_id, folder, pattern)
        logger.info(
            f"Saved {counted(len(paths), 'artifact')} of step run {step_run_id} in '{folder}'."
        )
        return [str(p) for p in paths]

    @keyword
    def download_process_run_output_files(
        self,
        process_run_id: Id,
        directory: str | None = None,
        pattern: str = "*",
        alias: str | None = None,
    ) -> list[str]:
        """Saves the files of the process run's outputs; returns the paths saved.

        ``directory`` defaults to ``${OUTPUT DIR}/process-runs/<process run id>/outputs``;
        each output's files go into a folder in it named by the output's id, made safe
        like a file name (see `Downloads`). Every output gets a folder of its own: when
        two ids give the same folder name (``x/1`` and ``y/1`` both give ``1``; names
        that differ only in case or Unicode normalisation count as the same), the later
        output in Control Room's order gets ``1 (2)``, then ``1 (3)``, like duplicate
        file names. Folders are created when a file is saved. ``pattern`` is a case-sensitive glob that the
        file names must match. The download URLs are those `List Process Run Outputs`
        returns (valid for one hour). See `Downloads` for how files are streamed,
        named and limited in size.

        Fails when an argument is bad (before any request), when Control Room refuses
        a request, or when a download fails; the files saved before stay.

        Examples:
        | ${paths} = | Download Process Run Output Files | ${run id} |
        | ${paths} = | Download Process Run Output Files | ${run id} | pattern=*.pdf |
        | Length Should Be | ${paths} | 3 |
        """
        id_argument("process_run_id", process_run_id)
        folder = _directory(directory, Path("process-runs", process_run_id, "outputs"))
        non_empty("pattern", pattern)
        from ..client.downloads import RemoteFile, UniqueNames, safe_name, save_files

        client = self.ctx.client(alias)
        paths: list[Path] = []
        folders = UniqueNames()
        for output in client.list_outputs(process_run_id):
            output_folder = safe_name(str(output.get("id") or ""))
            if not output_folder:
                logger.warn(
                    f"Skipped an output whose id is no safe folder name: {shown(output.get('id'))}."
                )
                continue
            output_folder = folders.add(output_folder)
            files = [
                RemoteFile(f.get("name"), partial(_output_file_url, f))
                for f in output.get("files") or []
                if isinstance(f, dict)
            ]
            paths += save_files(client, files, folder / output_folder, pattern)
        logger.info(
            f"Saved {counted(len(paths), 'output file')} of process run {process_run_id} in '{folder}'."
        )
        return [str(p) for p in paths]


def save_step_run_artifacts(
    client: ControlRoomClient, step_run_id: str, folder: Path, pattern: str = "*"
) -> list[Path]:
    """Download the artifacts of one step run: the one way both keywords that save
    artifacts do it (`Download Step Run Artifacts` and the waits' ``download_artifacts``)."""
    from ..client.downloads import save_files

    files = [_artifact(client, step_run_id, a) for a in client.list_step_run_artifacts(step_run_id)]
    return save_files(client, files, folder, pattern)


def _artifact(client: ControlRoomClient, step_run_id: str, artifact: Any) -> RemoteFile:
    from ..client.downloads import RemoteFile

    artifact = artifact if isinstance(artifact, dict) else {}
    url = partial(client.step_run_artifact_url, step_run_id, str(artifact.get("id") or ""))
    return RemoteFile(artifact.get("name"), url)


def _output_file_url(file: dict[str, Any]) -> str:
    url = (file.get("download") or {}).get("url")
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        raise ControlRoomError(
            "GET", "/outputs", f"output file {shown(file.get('name'))} has no download URL."
        )
    return url


def id_argument(name: str, value: Any) -> str:
    """An id that also names a folder: path_segment refuses control characters too."""
    path_segment(name, value)
    return str(value)


def _directory(directory: Any, default: Path) -> Path:
    """The folder to save into, checked before any request."""
    if directory is None:
        return output_dir() / default
    if (
        not isinstance(directory, (str, os.PathLike))
        or not str(directory).strip()
        or "\x00" in str(directory)
    ):
        raise InvalidArgument(
            f"Argument 'directory' must be the path of a folder, got {shown(directory)}."
        )
    folder = Path(directory).absolute()
    try:
        is_file = folder.exists() and not folder.is_dir()
    except (OSError, ValueError):  # a name the file system cannot hold, no permission
        is_file = False  # said in a sentence when the first file is saved
    if is_file:
        raise InvalidArgument(f"Argument 'directory' must be a folder, but '{folder}' is a file.")
    return folder


def output_dir() -> Path:
    """Where downloads go by default: ``${OUTPUT DIR}``, the current folder outside Robot.

    Under pabot, each process runs with ``--outputdir <dir>/pabot_results/<n>`` and
    pabot merges every file named ``output.xml`` below ``pabot_results`` into its
    result: a child robot's output.xml saved there would break the merge (or add the
    child's tests to the parent's). So under pabot it is ``<dir>``, pabot's own output
    folder, where pabot also writes the merged log.html."""
    from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

    try:
        out = Path(BuiltIn().get_variable_value("${OUTPUT DIR}")).absolute()
        under_pabot = BuiltIn().get_variable_value("${PABOTQUEUEINDEX}") is not None
    except RobotNotRunningError:
        return Path.cwd()
    if under_pabot and out.parent.name == "pabot_results":
        return out.parent.parent
    return out


def log_dir() -> Path:
    """The folder of the log.html that will show this run's messages: the folder of
    ``${LOG FILE}``; without a log (pabot runs its processes with ``--log NONE``), the
    output folder of :func:`output_dir`."""
    from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

    try:
        log_file = BuiltIn().get_variable_value("${LOG FILE}")
    except RobotNotRunningError:
        return Path.cwd()
    if isinstance(log_file, str) and log_file.upper() not in ("", "NONE"):
        return Path(log_file).absolute().parent
    return output_dir()


def artifact_links(run_id: str, saved: list[tuple[dict[str, Any], list[Path]]]) -> str:
    """An HTML block for log.html: per step run, a relative link to each saved file."""
    base = log_dir()
    rows = []
    for step_run, paths in saved:
        step = step_run.get("step") or {}
        title = f"Step run {step_run.get('id')}"
        if step.get("name"):
            title += f" ({step.get('name')})"
        title += f", {step_run.get('state') or 'unknown state'}"
        links = ", ".join(
            f'<a href="{html.escape(_href(p, base))}">{html.escape(p.name)}</a>' for p in paths
        )
        rows.append(f"<li>{html.escape(title)}: {links or 'no artifacts'}</li>")
    return f"<b>Artifacts of process run {html.escape(run_id)}</b><ul>{''.join(rows)}</ul>"


def _href(path: Path, base: Path) -> str:
    return quote(Path(os.path.relpath(path, base)).as_posix(), safe="/")

"""The commands of steps that are real: one subprocess per step run, in a process group of
its own, without a shell, with the environment docs/emulator.md documents. What it prints
becomes console messages as it comes, what it leaves in ROBOT_ARTIFACTS becomes artifacts
when it exits (copied into the workspace's spool: on disk, not in memory); liveruns.py
decides what that means for the step run and its items.

No command outlives the emulator: `close()` (the server's cleanup) and a reset end every
process group, and a timeout or a stop ends one (SIGTERM, then SIGKILL after a grace
period)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .model import LiveStepRun, Run
from .spool import Spool, StoredFile

GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL
SHUTDOWN_GRACE_SECONDS = 1.0  # the emulator is stopping: Stop Emulator kills it after 5 s
PIPE_DRAIN_SECONDS = 2.0  # a grandchild may keep the pipes open after the command exits
MAX_LINE = 64 * 1024  # a longer console line is cut
CHUNK = 64 * 1024
MAX_ARTIFACTS = 10_000  # files of ROBOT_ARTIFACTS kept per step run, in name order
# The emulator's own credentials reach it through these; a command never sees them.
HIDDEN_VARIABLES = {"RC_EMULATOR_API_KEY"}

_origin: str | None = None


def set_origin(origin: str) -> None:
    """The emulator's own address (`http://127.0.0.1:PORT`), as it listens: commands reach
    the worker-side API and /api/v1 there. Set once the server is bound."""
    global _origin
    _origin = origin.rstrip("/")


def origin() -> str:
    return _origin or "http://127.0.0.1"


def environment(workspace: Any, run: Run, step_run: LiveStepRun, folder: str) -> dict[str, str]:
    step = run.process.steps[step_run.step]
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    here = origin()
    env.update(
        {
            "RC_WORKSPACE_ID": workspace.workspace_id,
            "RC_PROCESS_ID": run.process.id,
            "RC_PROCESS_RUN_ID": run.id,
            "RC_ACTIVITY_RUN_ID": step_run.id,
            "RC_WORKITEM_ID": step_run.inputs[0] if step_run.inputs else "",
            "RC_API_WORKITEM_HOST": here,
            "RC_API_PROCESS_HOST": here,
            "RC_API_WORKITEM_TOKEN": step_run.token,
            "RC_API_PROCESS_TOKEN": step_run.token,
            "ROBOT_ARTIFACTS": folder,
            "RC_API_URL_V1": f"{here}/api/v1",
        }
    )
    env.update(dict(step.env))
    return env


PLACEHOLDER = re.compile(r"%\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(argument: str, env: dict[str, str]) -> str:
    """`%{NAME}` (Robot Framework's syntax) is the command's environment variable NAME,
    e.g. `--outputdir %{ROBOT_ARTIFACTS}`: there is no shell to expand `$NAME`. A name
    that is not set stays as written."""
    return PLACEHOLDER.sub(lambda m: env.get(m[1], m[0]), argument)


class CommandRunner:
    """Starts, watches and ends the commands of one workspace's live runs."""

    def __init__(self) -> None:
        self._processes: dict[str, _Command] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        # Bumped by a reset: a command started before it is ended and forgotten, even one
        # whose process was still being created when the reset came.
        self._generation = 0

    def launch(self, workspace: Any, run: Run, step_run: LiveStepRun) -> None:
        if self._closing:
            return  # the emulator stops: no new command
        self._spawn(self._run(workspace, run, step_run, self._generation))

    def terminate(self, step_run_id: str) -> None:
        process = self._processes.get(step_run_id)
        if process is not None:
            self._spawn(_end(process, GRACE_SECONDS))

    def kill_all(self) -> None:
        """A reset: every command is killed (the spool forgets their artifacts)."""
        self._generation += 1
        for process in list(self._processes.values()):
            _signal_group(process, signal.SIGKILL)

    async def close(self) -> None:
        """End every command (the emulator stops) and wait for their step runs to end."""
        self._closing = True
        await asyncio.gather(
            *(_end(p, SHUTDOWN_GRACE_SECONDS) for p in list(self._processes.values())),
            return_exceptions=True,
        )
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(task, PIPE_DRAIN_SECONDS + 1)

    def _current(self, generation: int) -> bool:
        """Whether a command started in `generation` still belongs to a known run."""
        return generation == self._generation and not self._closing

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, workspace: Any, run: Run, step_run: LiveStepRun, generation: int) -> None:
        step = run.process.steps[step_run.step]
        assert step.command is not None
        folder = tempfile.mkdtemp(prefix="processrun-artifacts-")
        try:
            env = environment(workspace, run, step_run, folder)
            try:
                process = await _create(
                    [expand(argument, env) for argument in step.command],
                    cwd=step.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,  # its own process group: ended as a whole
                )
            except OSError as error:
                if self._current(generation):
                    workspace.command_exited(run, step_run, None, [], _not_started(error, step))
                return
            if not self._current(generation):
                # A reset or the emulator's stop came while the process was being created.
                _signal_group(process, signal.SIGKILL)
                await process.wait()
                return
            self._processes[step_run.id] = process
            workspace.command_started(run, step_run)
            if step_run.ending is not None:  # stopped while it was being created
                self._spawn(_end(process, GRACE_SECONDS))
            await self._watch(process, step_run, step.timeout, workspace)
            artifacts = await asyncio.to_thread(_collect, folder, workspace.spool)
            if self._current(generation):
                workspace.command_exited(run, step_run, process.returncode, artifacts)
            else:  # a reset came: nothing of it is kept
                for _, stored in artifacts:
                    stored.discard()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    async def _watch(
        self,
        process: _Command,
        step_run: LiveStepRun,
        timeout: float | None,
        workspace: Any,
    ) -> None:
        """Until the command has exited (or its timeout ended it) and its output is read."""
        readers = [
            asyncio.ensure_future(_read_lines(stream, workspace, step_run))
            for stream in (process.stdout, process.stderr)
        ]
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except asyncio.TimeoutError:
            step_run.ending = step_run.ending or "timeout"
            await _end(process, GRACE_SECONDS)
        _signal_group(process, signal.SIGKILL)  # what it left behind
        await asyncio.to_thread(_kill_escaped, step_run.id)
        _done, pending = await asyncio.wait(readers, timeout=PIPE_DRAIN_SECONDS)
        for reader in pending:
            reader.cancel()
        process.close()  # its pipes, even where a process that escaped still holds them
        self._processes.pop(step_run.id, None)


class _Exits(asyncio.subprocess.SubprocessStreamProtocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=CHUNK, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


class _Command(asyncio.subprocess.Process):
    """A command's process whose wait() returns as soon as it has exited. asyncio's also
    waits until its stdout and stderr are closed: a process it started and left behind,
    which holds them, would keep the step run from ending and from killing what it left."""

    _protocol: _Exits
    _transport: asyncio.SubprocessTransport

    async def wait(self) -> int:
        await asyncio.shield(self._protocol.exited)
        assert self.returncode is not None
        return self.returncode

    def close(self) -> None:
        self._transport.close()


async def _create(argv: list[str], **options: Any) -> _Command:
    """asyncio.create_subprocess_exec, with the process as a _Command."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_exec(lambda: _Exits(loop), *argv, **options)
    return _Command(transport, protocol, loop)


def _kill_escaped(step_run_id: str) -> None:
    """Kill what the command started in a session of its own (setsid: a daemon, a browser
    launched detached), out of reach of its process group: on Linux, the processes of this
    user whose environment has the step run's RC_ACTIVITY_RUN_ID."""
    marker = f"RC_ACTIVITY_RUN_ID={step_run_id}".encode()
    uid = os.getuid()
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return  # no /proc: not Linux
    for entry in entries:
        with contextlib.suppress(OSError):
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as file:
                if marker in file.read().split(b"\0"):
                    os.kill(int(entry), signal.SIGKILL)


def _not_started(error: OSError, step: Any) -> str:
    """Why the command could not start, naming what was missing: the program or the cwd."""
    what = error.filename or step.command[0]
    why = f"{error.strerror or 'error'}: {what}"
    return f"{why} (the step's 'cwd')" if what == step.cwd else why


async def _read_lines(stream: asyncio.StreamReader | None, workspace: Any, step: Any) -> None:
    """Each line as it comes, the last one even without its newline. A line longer than
    MAX_LINE is cut: its first MAX_LINE bytes are a console message, the rest up to its
    newline is dropped (an endless line is one message, not thousands)."""
    if stream is None:
        return
    pending = b""
    cut = False  # the line in `pending` was cut already: drop it up to its newline
    while chunk := await stream.read(CHUNK):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if not cut:
                workspace.console_line(step, _text(line))
            cut = False
        if not cut and len(pending) > MAX_LINE:
            workspace.console_line(step, _text(pending))
            cut = True
        if cut:
            pending = b""
    if pending:
        workspace.console_line(step, _text(pending))


def _text(line: bytes) -> str:
    return line[:MAX_LINE].rstrip(b"\r").decode("utf-8", errors="replace")


def _signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


async def _end(process: _Command, grace: float) -> None:
    """SIGTERM to the command's process group; SIGKILL if it has not exited after `grace`."""
    _signal_group(process, signal.SIGTERM)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), grace)
    _signal_group(process, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        await process.wait()


def _collect(folder: str, spool: Spool) -> list[tuple[str, StoredFile]]:
    """The regular files left in ROBOT_ARTIFACTS, copied into the spool, named by their
    path inside it (a name that is not UTF-8 shows its bad bytes as U+FFFD), in name
    order, the first MAX_ARTIFACTS found. Nothing outside the folder is read: no symlink
    is followed, to a file or a folder (os.fwalk opens each folder relative to its parent),
    and a FIFO or a device is no artifact."""
    found: list[tuple[str, StoredFile]] = []
    for directory, _folders, names, dir_fd in os.fwalk(folder):
        inside = Path(directory).relative_to(folder)
        for name in sorted(names):
            if len(found) >= MAX_ARTIFACTS:
                break
            stored = spool.take_regular_file(name, dir_fd)
            if stored is not None:
                found.append((_name((inside / name).as_posix()), stored))
    found.sort(key=lambda entry: entry[0].split("/"))  # as Path sorts them
    return found


def _name(relative: str) -> str:
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

"""Robot Framework keywords that start, drive and stop the Control Room emulator."""

from __future__ import annotations

import atexit
import base64
import contextlib
import inspect
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import IO, Any

import requests
from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import DotDict, secs_to_timestr, timestr_to_secs
from urllib3.exceptions import InsecureRequestWarning

from ProcessRunLibrary.listener import listeners, secret_arguments
from ProcessRunLibrary.types import Secret, Time
from ProcessRunLibrary.version import VERSION

READY_PREFIX = "Control Room emulator listening on "
FOREVER = ("", "none", "forever", "until stopped")


class EmulatorError(RuntimeError):
    """A failure of an emulator keyword; Robot shows only the message."""

    ROBOT_SUPPRESS_NAME = True


def _secret_value(value: Any) -> str:
    """The plain string of `value`, also when it is Robot Framework's `Secret`."""
    return str(getattr(value, "value", value))


def _seconds(value: Any, argument: str) -> float:
    try:
        seconds = float(timestr_to_secs(value))
    except (ValueError, TypeError):
        raise EmulatorError(f"Argument '{argument}' is not a valid time: '{value}'.") from None
    if seconds < 0:
        raise EmulatorError(f"Argument '{argument}' must not be negative: '{value}'.")
    return seconds


def _integer(value: Any, argument: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return int(str(value).strip())
    except ValueError:
        raise EmulatorError(f"Argument '{argument}' is not an integer: '{value}'.") from None


def _files(files: Any) -> list[dict[str, str]]:
    """A path, a list of paths or a dictionary of names and contents, as the admin API
    takes files: `{"name", "content_base64"}`."""
    if files is None:
        return []
    if isinstance(files, dict):
        named = [(str(name), content) for name, content in files.items()]
    else:
        paths = [files] if isinstance(files, str | os.PathLike) else list(files)
        named = []
        for path in paths:
            try:
                named.append((Path(path).name, Path(path).read_bytes()))
            except OSError as error:
                raise EmulatorError(
                    f"Argument 'files': cannot read '{path}': {error.strerror}."
                ) from None
    result = []
    for name, content in named:
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        result.append({"name": name, "content_base64": base64.b64encode(data).decode()})
    return result


def _keyword_arguments(library: type) -> dict[str, list[str]]:
    """The library's keywords (its public methods) and the names of their arguments."""
    return {
        name: [p for p in inspect.signature(method).parameters if p != "self"]
        for name, method in inspect.getmembers(library, inspect.isfunction)
        if not name.startswith("_")
    }


def _json_argument(value: Any, argument: str) -> Any:
    """Lists and dictionaries as they are; a string is parsed as JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise EmulatorError(f"Argument '{argument}' is not valid JSON: '{value}'.") from None


class _StopOnClose:
    """Library listener: stops the emulator when the library goes out of scope."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, library: Emulator) -> None:
        self.library = library

    def close(self) -> None:
        self.library._stop_quietly()


class _FollowAlias:
    """Library listener (API 2, Robot Framework 6.1 and newer): tells the library under
    which name each of its keywords is called.

    Robot Framework shares one instance of a GLOBAL library between imports with the same
    arguments, also under different names (``Library  ProcessRunLibrary.Emulator  AS
    Staging``). Each name gets an emulator of its own all the same: before one of the
    library's keywords runs, the library switches to the state of the name it was called
    by."""

    ROBOT_LISTENER_API_VERSION = 2

    def __init__(self, library: Emulator) -> None:
        self.library = library
        self.mine: dict[str, bool] = {}  # library or resource name: is it this library?

    def start_suite(self, name: str, attributes: dict[str, Any]) -> None:
        self.mine.clear()  # another suite may give a name to another library

    def start_keyword(self, name: str, attributes: dict[str, Any]) -> None:
        owner = attributes.get("libname")
        if not owner:
            return
        if owner not in self.mine:
            try:
                self.mine[owner] = BuiltIn().get_library_instance(owner) is self.library
            except RuntimeError:  # a resource file, or not a library in this scope
                self.mine[owner] = False
        if self.mine[owner]:
            self.library._switch(owner)


# What one emulator (one import name) has of its own.
_PER_NAME = (
    "_process", "_stderr", "_lines", "_session", "_url", "_root", "_verify", "_keys", "_workspace",
)  # fmt: skip


class Emulator:
    """Starts and drives a local Control Room emulator from a Robot Framework suite.

    The emulator is a small HTTP server that speaks Control Room's Process Run API (the same
    paths, bodies, run states, pagination and errors) so that orchestration robots, and
    ProcessRunLibrary itself, can be tested without a Control Room. It needs the `emulator`
    extra: ``pip install robotframework-processrunlibrary[emulator]``.

    `Start Emulator` runs it as a separate process on a free port of 127.0.0.1 and returns
    its API base URL, to be given to ProcessRunLibrary as ``api_url``. The other keywords
    talk to its admin API: define processes and how their runs behave (durations, outcome,
    failed work items, outputs, and the steps of each run with their console lines and
    artifacts), inject faults (error statuses, latency, dropped connections), read the log
    of the API requests it received, and look at the runs it created. The emulator is stopped by `Stop Emulator`, and at the
    latest when the library goes out of scope or Python exits.

    The library scope is GLOBAL: start the emulator once in a suite setup (for example in
    ``__init__.robot``) and all suites share it; `Reset Emulator` in a test setup gives each
    test a clean workspace.

    See [emulator.md|docs/emulator.md] for a worked example, the process configuration format, the fault
    rules, the callbacks, the admin API and what is inferred rather than published about
    Control Room. The keywords that start, wait for and stop runs are in
    [ProcessRunLibrary.html|ProcessRunLibrary's keyword documentation].

    = Times =

    Durations (``new_seconds``, ``run_seconds``, ``latency``, ``retry_after``, ``timeout``)
    are Robot Framework times: ``2``, ``1.5 s``, ``1 minute 30 seconds``. Process durations
    are emulated time: with ``clock_factor=10`` a run of ``10 s`` ends after one real
    second.

    = Example =

    | ``*** Settings ***``
    | Library           ProcessRunLibrary.Emulator
    | Library           ProcessRunLibrary    workspace_id=ws    api_key=key
    | Suite Setup       Start Emulator And Connect
    | Suite Teardown    Stop Emulator
    | Test Setup        Reset Emulator
    |
    | ``*** Test Cases ***``
    | A Busy Control Room Is Retried
    |     Define Process    invoices    run_seconds=10 s    outputs=echo
    |     Inject Fault    status=503    method=GET    path=/process-runs/    nth=${1}
    |     ${id} =    Start Process Run    invoices
    |     Wait Until Process Run Completes    ${id}
    |     ${faulted} =    Get Requests    path=/process-runs/
    |     Should Be Equal As Integers    ${faulted}[0][status]    503
    |
    | ``*** Keywords ***``
    | Start Emulator And Connect
    |     ${url} =    Start Emulator    workspace_id=ws    api_key=key    clock_factor=10
    |     Create Control Room Session    emulator    api_url=${url}

    = Several workspaces =

    One emulator serves several workspaces, each opened by its own key, as one Control
    Room organisation has several: `Add Emulator Workspace` adds one, and each workspace is
    a session of ProcessRunLibrary with its own ``workspace_id`` and ``api_key``
    (examples/two_workspaces.robot does this). A key opens its own workspace only; each
    workspace has its own processes, runs, work items and tokens; the clock, fault rules
    and request log are shared. The admin keywords (`Define Process`, `Get Emulator
    Runs`, ...) act on one workspace at a time, chosen with `Switch Emulator Workspace`.

    | ${url} =    Start Emulator    production    ${PRODUCTION KEY}
    | Add Emulator Workspace    staging    ${STAGING KEY}
    | Create Control Room Session    staging    api_url=${url}    workspace_id=staging    api_key=${STAGING KEY}
    | Switch Emulator Workspace    staging
    | Define Process    invoices    run_seconds=10 s

    = Several emulators =

    Each name the library is imported with is an emulator of its own, with its own port,
    workspaces, clock, faults and request log: for two Control Rooms rather than two
    workspaces of one.

    | Library    ProcessRunLibrary.Emulator    AS    Production
    | Library    ProcessRunLibrary.Emulator    AS    Staging
    | ...
    | ${url} =    Staging.Start Emulator    staging    ${STAGING KEY}

    An emulator started outside Robot Framework (for example by a test runner script) is
    driven by importing the library with its address, or with `Connect To Emulator`:

    | Library    ProcessRunLibrary.Emulator    api_url=${API_URL}    api_key=${API_KEY}
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = VERSION
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    # Times and keys typed like ProcessRunLibrary's: libdoc links `Time`, and Robot refuses
    # a bad time naming the argument before the keyword runs.
    ROBOT_LIBRARY_CONVERTERS = {Time: Time.convert}

    def __init__(self, api_url: str | None = None, api_key: str | Secret = None) -> None:
        """``api_url`` and ``api_key`` connect the library to an emulator that runs already
        (started outside Robot Framework), as `Connect To Emulator` does but without a
        request at import time. Without them, use `Start Emulator` or `Connect To Emulator`.
        """
        self.ROBOT_LIBRARY_LISTENER = [
            _StopOnClose(self),
            _FollowAlias(self),
            # Keys and tokens given to these keywords are masked as ProcessRunLibrary's are,
            # also in a suite that imports only this library.
            *listeners(secret_arguments(_keyword_arguments(Emulator))),
        ]
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._session = requests.Session()
        self._url: str | None = None
        self._root: str | None = None
        self._verify: bool | str = True
        self._keys: dict[str, str] = {}  # workspace id -> its key, of the workspaces added
        self._workspace: str | None = None  # the workspace the admin keywords act on
        if api_url:
            self._use(api_url, "demo-key" if api_key is None else api_key, verify=True)
        self._name = ""  # the import name whose emulator the attributes above are
        self._others: dict[str, dict[str, Any]] = {}  # the other names' attributes
        atexit.register(self._stop_quietly)

    def _switch(self, name: str) -> None:
        """Makes the emulator of import name `name` the one the keywords use."""
        if name == self._name:
            return
        if not self._name:  # the first name used takes what the import connected to
            self._name = name
            return
        self._others[self._name] = {a: getattr(self, a) for a in _PER_NAME}
        state = self._others.pop(name, None)
        if state is None:  # a name seen for the first time starts without an emulator
            state = {
                "_process": None, "_stderr": None, "_lines": queue.Queue(),
                "_session": requests.Session(), "_url": None, "_root": None, "_verify": True,
                "_keys": {}, "_workspace": None,
            }  # fmt: skip
        for attribute, value in state.items():
            setattr(self, attribute, value)
        self._name = name

    def _use(self, api_url: str, api_key: Any, verify: bool) -> None:
        url = api_url.rstrip("/")
        if not url.startswith(("http://", "https://")) or not url.endswith("/api/v1"):
            raise EmulatorError(
                f"Argument 'api_url' must be the emulator's http(s)://HOST:PORT/api/v1, got "
                f"'{api_url}'."
            )
        self._url = url
        self._root = url[: -len("/api/v1")]
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"RC-WSKEY {_secret_value(api_key)}"
        self._verify = verify
        self._keys, self._workspace = {}, None

    def _stop_quietly(self) -> None:
        # At interpreter exit nothing can be reported anyway. Every name's emulator stops.
        for name in [self._name, *self._others]:
            with contextlib.suppress(Exception):
                self._switch(name)
                self.stop_emulator()

    # --- starting and stopping

    def start_emulator(
        self,
        workspace_id: str = "demo-workspace",
        api_key: str | Secret = "demo-key",
        config: str | None = None,
        clock_factor: float | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        seed: str | None = None,
        tokens: list[str] | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        timeout: Time = "10 s",  # type: ignore[assignment]
        allow_commands: bool = False,
    ) -> str:
        """Starts the emulator and returns its API base URL, ``http://HOST:PORT/api/v1``.

        - ``workspace_id`` and ``api_key``: the workspace the emulator serves (the first,
          when `Add Emulator Workspace` adds more) and the key that opens it, exactly as ``Authorization: RC-WSKEY <api_key>`` (as Control Room
          takes it: ``Bearer <api_key>`` or ``rc-wskey <api_key>`` are refused with 403).
          ``api_key`` may be a ``Secret``.
        - ``config``: path to a JSON configuration file (processes, ``clock_factor``,
          ``stopping_seconds``, ``page_size``); without it the demo processes exist
          (``demo-quick``, ``demo-slow``, ``demo-failing``, ``demo-forever``, ``demo-echo``,
          ``demo-queue``, ``demo-files``).
        - ``clock_factor``: emulated seconds per real second; overrides the configuration.
        - ``port``: ``0`` (the default) picks a free port.
        - ``seed``: seed of the random draws of fault rules with a ``rate``.
        - ``tokens``: tokens accepted as ``Authorization: Bearer <token>`` (as a run's
          ``RC_API_TOKEN_V1`` is sent), and as the ``token`` of the integrations endpoint.
        - ``certfile`` and ``keyfile``: serve HTTPS with this certificate and key (PEM);
          the returned URL then starts with ``https://``. The emulator keywords talk to it
          without verifying that certificate (it is the test's own throwaway).
        - ``timeout``: how long to wait for the emulator to report its address.
        - ``allow_commands``: let `Define Process` define steps that run real commands
          (``command``): the emulator then runs whatever program such a step names, as
          the user who runs the tests. A ``config`` file may have them without it.

        Fails when an emulator started by this library is already running, when the process
        exits (the message has its error output, e.g. a bad configuration file), or when it
        does not report its address within ``timeout``.

        Examples:
        | ${url} = | `Start Emulator` | workspace_id=ws | api_key=key | |
        | ${url} = | `Start Emulator` | ws | key | config=${CURDIR}/processes.json | clock_factor=10 |
        | ${url} = | `Start Emulator` | allow_commands=True | | | |
        """
        if self._process is not None and self._process.poll() is None:
            raise EmulatorError(f"The emulator is already running at {self._url}.")
        wait = _seconds(timeout, "timeout")
        key = _secret_value(api_key)
        command = [
            sys.executable,
            "-m",
            "ProcessRunLibrary.emulator",
            "--host",
            host,
            "--port",
            str(int(port)),
            "--workspace-id",
            workspace_id,
            "--api-key-env",
            "RC_EMULATOR_API_KEY",
        ]
        # Secrets travel in the child's environment, not on its command line: `ps` shows
        # every user the command lines of all processes.
        secrets = {"RC_EMULATOR_API_KEY": key}
        if config:
            command += ["--config", str(Path(config))]
        if clock_factor is not None:
            command += ["--clock-factor", str(float(clock_factor))]
        if seed is not None:
            command += ["--seed", str(seed)]
        for number, token in enumerate(tokens or [], start=1):
            secrets[f"RC_EMULATOR_TOKEN_{number}"] = _secret_value(token)
            command += ["--token-env", f"RC_EMULATOR_TOKEN_{number}"]
        if certfile or keyfile:
            if not (certfile and keyfile):
                raise EmulatorError("Arguments 'certfile' and 'keyfile' must be given together.")
            command += ["--certfile", certfile, "--keyfile", keyfile]
        if allow_commands:
            command.append("--allow-commands")
        self._launch(command, secrets)
        line = self._wait_for_address(wait)
        # A test certificate is rarely in the system's trust store; the admin API is local.
        self._use(line[len(READY_PREFIX) :].strip(), key, verify=not certfile)
        self._keys, self._workspace = {workspace_id: key}, workspace_id
        assert self._url is not None
        logger.info(f"Control Room emulator started at {self._url}.")
        return self._url

    def _launch(self, command: list[str], secrets: dict[str, str]) -> None:
        env = dict(os.environ, **secrets)
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        # Stays open while the emulator runs; closed by Stop Emulator.
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._lines = queue.Queue()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        threading.Thread(
            target=self._read_stdout, args=(self._process, self._lines), daemon=True
        ).start()

    @staticmethod
    def _read_stdout(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        # Keeps draining so that the emulator never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    def _wait_for_address(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self._kill()
            raise EmulatorError(
                "The emulator did not report its address within "
                f"{secs_to_timestr(timeout)}.{self._error_output()}"
            ) from None
        if line is None or not line.startswith(READY_PREFIX):
            self._kill()
            raise EmulatorError(f"Starting the emulator failed.{self._error_output()}")
        return line

    def _error_output(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().strip()
        return f" Its error output: {text}" if text else ""

    def _kill(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()

    def connect_to_emulator(self, api_url: str, api_key: str | Secret = "demo-key") -> None:
        """Drives an emulator that runs already, e.g. one started by a test runner script.

        ``api_url`` is its API base URL (the address in its first output line) and
        ``api_key`` the key it was started with (may be a ``Secret``). `Stop Emulator` then
        only disconnects: it does not stop an emulator this library did not start.

        Fails when nothing answers at ``api_url`` or the emulator refuses the key.

        Examples:
        | `Connect To Emulator` | http://127.0.0.1:8123/api/v1 | ${API_KEY} |
        """
        if self._process is not None and self._process.poll() is None:
            raise EmulatorError(f"The emulator is already running at {self._url}.")
        self._use(api_url, api_key, verify=True)
        try:
            workspace = self._admin("GET", "/workspaces").current
        except EmulatorError:
            self._url = self._root = None
            raise
        self._keys, self._workspace = {workspace: _secret_value(api_key)}, workspace
        logger.info(f"Connected to the Control Room emulator at {self._url}.")

    def stop_emulator(self, timeout: Time = "5 s") -> None:  # type: ignore[assignment]
        """Stops the emulator started by `Start Emulator`; does nothing when none runs.

        The emulator gets ``timeout`` to stop cleanly and is killed after that. An emulator
        used through `Connect To Emulator` is not stopped, only disconnected.

        Examples:
        | `Stop Emulator` |
        """
        process, self._process = self._process, None
        if process is None:
            self._url = self._root = None
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_seconds(timeout, "timeout"))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._session.close()
        logger.info(f"Control Room emulator at {self._url} stopped.")
        self._url = self._root = None

    def get_emulator_url(self) -> str:
        """Returns the API base URL of the running emulator, ``http://HOST:PORT/api/v1``.

        Fails when the emulator is not running.

        Examples:
        | ${url} = | `Get Emulator Url` |
        """
        self._require_running()
        assert self._url is not None
        return self._url

    # --- the admin API

    def _require_running(self) -> None:
        if self._url is None:
            raise EmulatorError("No emulator: use 'Start Emulator' or 'Connect To Emulator' first.")
        if self._process is not None and self._process.poll() is not None:
            raise EmulatorError(
                f"The emulator started at {self._url} has exited with code "
                f"{self._process.returncode}.{self._error_output()}"
            )

    def _admin(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        self._require_running()
        url = f"{self._root}/_emulator{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            with warnings.catch_warnings():
                # A TLS emulator has a throwaway certificate that is not verified: say so
                # once in the docs, not on the console for every keyword.
                warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self._session.request(
                    method, url, params=query, json=body, timeout=30, verify=self._verify
                )
        except requests.RequestException as error:
            raise EmulatorError(
                f"Emulator admin request {method} /_emulator{path} failed: {error}"
            ) from None
        data = json.loads(response.text, object_hook=DotDict) if response.text else None
        if response.status_code != 200:
            detail = data["error"]["message"] if isinstance(data, dict) and "error" in data else ""
            raise EmulatorError(
                f"Emulator admin request {method} /_emulator{path} failed with status "
                f"{response.status_code}: {detail or response.text}"
            )
        return data

    def define_process(
        self,
        process_id: str,
        name: str | None = None,
        new_seconds: Time = "0.5 s",  # type: ignore[assignment]
        run_seconds: str | None = "2 s",
        outcome: str = "completed",
        failures: list[dict[str, str]] | str | None = None,
        outputs: list[Any] | str | None = None,
        input_queue: list[Any] | str | None = None,
        default_work_item: Any = None,
        allow_parallel_runs: bool = True,
        failing_attempts: int | str | None = 1,
        steps: list[Any] | str | None = None,
        console: str | list[str] | None = None,
        artifacts: list[dict[str, Any]] | str | None = None,
    ) -> DotDict:
        """Defines a process, or replaces the one with the same id, and returns its definition.

        Runs started afterwards behave as defined here; runs started earlier keep the
        definition they started with.

        - ``name``: the process name in run bodies; the id when not given.
        - ``new_seconds``: how long a run stays ``new``.
        - ``run_seconds``: how long it then stays ``in_progress``; ``${None}`` or ``forever``:
          until it is stopped.
        - ``outcome``: ``completed`` or ``unresolved``.
        - ``failures``: for an unresolved outcome, the exceptions of the first work items, a
          list of ``{"type": "application|business|orchestrator|unspecified", "code": ...,
          "message": ...}`` (a list or a JSON string).
        - ``outputs``: ``echo`` (one output per done work item, echoing its payload) or a list
          of ``{"payload": ..., "files": [{"name": ..., "content": ...}]}``.
        - ``input_queue``: payloads waiting in the process's input queue (for a start with
          the input queue).
        - ``default_work_item``: the payload of the work item of a start without a body;
          ``{}`` when not given.
        - ``allow_parallel_runs``: when false, a start while a run has not ended answers 409.
        - ``failing_attempts``: how many attempts of a failing work item fail. ``1`` (the
          default): a retry of the failed items of an unresolved run succeeds and the run
          ends ``completed``; ``2``: the first retry fails again, the second succeeds;
          ``${None}`` or ``always``: every retry fails.
        - ``steps``: the steps of each run, run one after another (``run_seconds`` is split
          evenly among them); one step named as the process when not given. A list of step
          names, or of ``{"name": ..., "fails": true, "error_code": ..., "console": [...],
          "artifacts": [...]}``: ``fails`` marks the step whose run fails when the run ends
          ``unresolved`` (the last step by default), ``error_code`` its step run's error code
          (``ROBOT_FAILED`` by default), ``console`` and ``artifacts`` as below for this step
          only.
        - A step may run a real robot instead (the emulator must be started with
          ``allow_commands=True``): ``{"name": ..., "command": ["program", "arg", ...]}``,
          run once per step run without a shell (``%{ROBOT_ARTIFACTS}`` in an argument is
          the variable's value), with ``cwd`` (default: the emulator's current directory),
          ``env`` (extra variables, strings), ``parallel`` (how many step runs of the step at
          once, default 1) and ``timeout`` (seconds). Then every step has a ``command``; the
          robots read and write their work items with robocorp-workitems or
          ``RPA.Robocorp.WorkItems`` as in Control Room, and the run's states, console
          messages, artifacts and outputs are what they did. See "Running real robots" in
          docs/emulator.md.
        - ``console``: the console lines of every step run (a list of strings), instead of
          the default lines, which name the failed work items and their exceptions.
        - ``artifacts``: the artifacts of every ended step run, instead of the default
          ``output.xml`` and ``log.html`` of a small Robot Framework run: a list of
          ``{"name": ..., "content": "text"}``, ``{"name": ..., "content_base64": ...}``,
          ``{"name": ..., "size": bytes}`` (generated content, streamed) or ``{"name": ...,
          "robot": "output.xml|log.html"}``. Any name is served as given, ``../evil.txt``
          and duplicates included, to test what a client makes of it.

        ``failures``, ``outputs``, ``input_queue``, ``steps``, ``console`` and ``artifacts``
        are lists or JSON strings. See docs/emulator.md for the step run lifecycle.

        Fails when the emulator rejects the definition, with its reason.

        Examples:
        | `Define Process` | invoices | run_seconds=10 s | outputs=echo |
        | `Define Process` | orders | outcome=unresolved | failures=[{"type": "business", "code": "E1", "message": "No customer."}] |
        | `Define Process` | watcher | run_seconds=forever |
        | `Define Process` | flaky | outcome=unresolved | failing_attempts=2 |
        | `Define Process` | pipeline | steps=["Fetch", "Enter", "Report"] | outcome=unresolved |
        | `Define Process` | child | outcome=unresolved | console=["Opening the portal", "Login failed"] | artifacts=[{"name": "../evil.txt", "content": "x"}, {"name": "big.bin", "size": 100000000}] |
        | `Define Process` | orders | steps=[{"name": "Produce", "command": ["robot", "--outputdir", "%{ROBOT_ARTIFACTS}", "producer.robot"], "cwd": "robots/producer"}, {"name": "Consume", "command": ["python", "-m", "robocorp.tasks", "run", "tasks.py"], "cwd": "robots/consumer", "parallel": 2, "timeout": 600}] |
        """
        forever = run_seconds is None or str(run_seconds).strip().lower() in FOREVER
        definition: dict[str, Any] = {
            "id": process_id,
            "new_seconds": _seconds(new_seconds, "new_seconds"),
            "run_seconds": None if forever else _seconds(run_seconds, "run_seconds"),
            "outcome": outcome,
            "allow_parallel_runs": allow_parallel_runs,
        }
        if name is not None:
            definition["name"] = name
        if failures is not None:
            definition["failures"] = _json_argument(failures, "failures")
        if outputs is not None:
            definition["outputs"] = (
                "echo" if outputs == "echo" else _json_argument(outputs, "outputs")
            )
        if input_queue is not None:
            definition["input_queue"] = _json_argument(input_queue, "input_queue")
        if default_work_item is not None:
            definition["default_work_item"] = _json_argument(default_work_item, "default_work_item")
        always = failing_attempts is None or str(failing_attempts).strip().lower() == "always"
        definition["failing_attempts"] = (
            None if always else _integer(failing_attempts, "failing_attempts")
        )
        for key, value in (("steps", steps), ("console", console), ("artifacts", artifacts)):
            if value is not None:
                definition[key] = _json_argument(value, key)
        return self._admin("PUT", f"/processes/{process_id}", definition)

    def inject_fault(
        self,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        rate: float | None = None,
        nth: list[int] | int | None = None,
        times: int | None = None,
        retry_after: Time = None,
        latency: Time = None,
        hang: bool = False,
        drop: bool = False,
        lost_answer: bool = False,
        seed: str | None = None,
    ) -> str:
        """Adds a fault rule for API requests and returns its id (``f1``, ``f2``, ...).

        Which requests: ``method`` (e.g. ``GET``) and ``path``, a regular expression searched
        in the path after ``/api/v1`` (e.g. ``/process-runs/[^/]+$``), or in the full path of
        the upload and download URLs of work item files (``^/_emulator/uploads/``, which a
        rule without ``path`` hits too); ``nth``: only these
        matching requests (1 is the first, e.g. ``${1}`` or ``[1, 3]``); ``rate``: a
        probability from 0 to 1, drawn from a seeded random generator (``seed`` here or in
        `Start Emulator`); ``times``: at most this many times.

        What happens: ``status`` (429, 500, 502, 503 or 504) with an error body, and
        ``retry_after`` as a ``Retry-After`` header (whole seconds, rounded up);
        ``latency``: a delay before the answer; ``hang``: no answer until the client gives up;
        ``drop``: the connection is closed without an answer; ``lost_answer``: the request is
        processed for real (a run is started), then the answer is ``status`` (502 when not
        given) or a dropped connection.

        Rules are tried in the order they were added; the first that fires applies. The
        response carries the header ``X-Emulator-Fault`` with the rule id, and the request
        log records it.

        Examples:
        | ${id} = | `Inject Fault` | status=429 | retry_after=1 s | times=1 |
        | `Inject Fault` | status=503 | method=GET | path=/process-runs/ | nth=[1, 2] |
        | `Inject Fault` | lost_answer=${True} | method=POST | path=/process-runs$ |
        | `Inject Fault` | latency=2 s | rate=0.5 | seed=42 |
        """
        rule: dict[str, Any] = {
            "status": status,
            "method": method,
            "path": path,
            "rate": rate,
            "times": times,
        }
        if nth is not None:
            rule["nth"] = [nth] if isinstance(nth, int) else list(nth)
        if retry_after is not None:
            rule["retry_after"] = _seconds(retry_after, "retry_after")
        if latency is not None:
            rule["latency"] = _seconds(latency, "latency")
        for flag, value in (("hang", hang), ("drop", drop), ("lost_answer", lost_answer)):
            if value:
                rule[flag] = True
        if seed is not None:
            rule["seed"] = int(seed) if str(seed).lstrip("-").isdigit() else seed
        created = self._admin("POST", "/faults", {k: v for k, v in rule.items() if v is not None})
        logger.info(f"Fault rule {created.id} added: {json.dumps(created)}")
        return str(created.id)

    def clear_faults(self) -> None:
        """Removes every fault rule.

        Examples:
        | `Clear Faults` |
        """
        self._admin("DELETE", "/faults")

    def get_requests(self, method: str | None = None, path: str | None = None) -> list[DotDict]:
        """Returns the API requests the emulator received, oldest first, as a list of DotDicts.

        Each has ``seq``, ``time``, ``method``, ``path`` (after ``/api/v1``; the full path
        ``/_emulator/...`` for a request to a download URL), ``query`` (the ``token`` and
        ``signature`` parameters masked), ``headers`` (``Authorization`` masked as
        ``RC-WSKEY ***``), ``body`` (parsed JSON, text, or ``None``), ``status`` (``None`` when
        the connection was dropped), ``fault`` (the rule id or ``None``) and ``duration``.
        ``method`` and ``path`` (a regular expression) select requests.

        Examples:
        | ${requests} = | `Get Requests` | method=POST | path=/process-runs$ |
        | Should Be Equal | ${requests}[0][headers][Authorization] | RC-WSKEY *** |
        """
        return list(self._admin("GET", "/requests", params={"method": method, "path": path}).data)

    def get_request_count(self, method: str | None = None, path: str | None = None) -> int:
        """Returns how many API requests the emulator received, selected as in `Get Requests`.

        Examples:
        | ${count} = | `Get Request Count` | method=GET | path=/process-runs/ |
        """
        return len(self.get_requests(method, path))

    def clear_request_log(self) -> None:
        """Empties the request log.

        Examples:
        | `Clear Request Log` |
        """
        self._admin("DELETE", "/requests")

    def get_emulator_runs(self, process_id: str | None = None) -> list[DotDict]:
        """Returns every run the emulator created, oldest first, deleted ones included.

        Each has ``id``, ``process_id``, ``state``, ``created_at``, ``start_type``,
        ``payloads`` (the payloads of its work items), ``work_items``, ``callback`` (its
        ``secret`` shown as ``***``), ``stop``, ``callback_deliveries``, ``retries`` (for
        each retry of failed items: ``at`` and ``work_item_ids``) and ``deleted``.
        The emulator POSTs the events a run's callback asks for to its URL;
        ``callback_deliveries`` lists each try: ``event``, ``at``, ``status`` (``None``
        when nothing answered) and ``error`` (``None`` when delivered).

        Examples:
        | ${runs} = | `Get Emulator Runs` | process_id=invoices |
        | Length Should Be | ${runs} | 1 |
        | Should Be Equal | ${runs}[0][payloads] | ${{[{"invoice": 1}]}} |
        | Should Be Equal | ${runs}[0][callback_deliveries][0][event] | completed |
        """
        return list(self._admin("GET", "/runs", params={"process_id": process_id}).data)

    def add_input_work_item(
        self, process_id: str, payload: Any = None, files: Any = None
    ) -> DotDict:
        """Puts a work item with ``payload`` and ``files`` into the input queue of
        ``process_id`` and returns it as `Get Emulator Work Items` shows it.

        The item waits there as one created through the API does (``createWorkItem``, then
        uploaded files): a run started with the input queue (``with_inputs``) takes it,
        ``GET .../work-items`` lists it as ``new`` and ``GET .../work-items/{id}`` shows its
        files with download URLs.

        - ``payload``: any JSON value (a dictionary, a list, or a string holding JSON);
          ``{}`` when not given.
        - ``files``: a path or a list of paths (each file is stored under its base name), or
          a dictionary of file names and contents (a string is stored as UTF-8, bytes as
          they are).

        Fails when a file cannot be read (before anything is sent) or the process is not
        defined.

        Examples:
        | ${item} = | `Add Input Work Item` | invoices | {"invoice": 1} | |
        | ${item} = | `Add Input Work Item` | invoices | ${payload} | files=${CURDIR}/invoice.pdf |
        | ${item} = | `Add Input Work Item` | invoices | files=${{{"notes.txt": "Pay soon."}}} | |
        | Should Be Equal | ${item}[state] | new | | |
        """
        body = {
            "process_id": process_id,
            "payload": {} if payload is None else _json_argument(payload, "payload"),
            "files": _files(files),
        }
        item = self._admin("POST", "/work-items", body)
        logger.info(f"Work item {item.id} added to the input queue of process '{process_id}'.")
        return item

    def get_emulator_work_items(
        self, process_id: str | None = None, process_run_id: str | None = None
    ) -> list[DotDict]:
        """Returns the work items the emulator holds, oldest first, deleted ones left out.

        Each has ``id``, ``process_id``, ``process_run_id`` (``None`` while it waits in the
        input queue), ``state``, ``exception``, ``attempt`` (1, then 2 after the first
        retry, ...), ``payload`` (as updated through the API) and ``files``: for each file
        its ``name``, ``size``, ``uploaded`` (false while it is announced but not uploaded)
        and its ``content`` (text) or ``content_base64`` (other bytes). ``process_id`` and
        ``process_run_id`` select items.

        Examples:
        | ${items} = | `Get Emulator Work Items` | process_id=invoices |
        | Should Be Equal | ${items}[0][files][0][content] | Pay soon. |
        | ${items} = | `Get Emulator Work Items` | process_run_id=${run_id} |
        | Should Be Equal As Integers | ${items}[0][attempt] | 2 |
        """
        params = {"process_id": process_id, "process_run_id": process_run_id}
        return list(self._admin("GET", "/work-items", params=params).data)

    def add_emulator_token(self, token: str | Secret) -> None:
        """Makes the emulator accept ``Authorization: Bearer <token>`` too. ``token`` may be a
        ``Secret``.

        Examples:
        | `Add Emulator Token` | my-run-token |
        """
        self._admin("POST", "/tokens", {"token": _secret_value(token)})

    # --- workspaces

    def add_emulator_workspace(self, workspace_id: str, api_key: str | Secret) -> None:
        """Makes the emulator serve one more workspace, opened by ``api_key`` only.

        One emulator process then serves several workspaces, each with its own key: a key
        opens its own workspace only, and another workspace's path answers 403 ``No access
        to workspace '<id>' with this API key.``, as Control Room does. The new workspace
        starts with the processes the emulator started with (those of ``config``, or the
        demo processes) and has runs, work items and tokens of its own. The emulator's
        clock, fault rules and request log are shared by all its workspaces: a fault rule or
        `Get Requests` can name one with its path (``path=^/workspaces/staging/``).

        ``workspace_id`` is 1 to 100 letters, digits, ``-``, ``_`` or ``.``; ``api_key``
        (may be a ``Secret``) must differ from every other workspace's key. The keywords of
        this library keep acting on the workspace they acted on: use `Switch Emulator
        Workspace` to define processes, look at runs or add tokens in another one. A
        workspace stays until the emulator stops; `Reset Emulator` empties every workspace
        but removes none.

        The emulator's command line does the same with ``--workspace ID:NAME``, the key
        read from the environment variable ``NAME``.

        Examples:
        | `Add Emulator Workspace` | staging | ${STAGING KEY} |
        | `Create Control Room Session` | staging | api_url=${url} | workspace_id=staging | api_key=${STAGING KEY} |
        """
        key = _secret_value(api_key)
        self._admin("POST", "/workspaces", {"workspace_id": workspace_id, "api_key": key})
        self._keys[workspace_id] = key
        logger.info(f"The emulator serves workspace '{workspace_id}' too.")

    def switch_emulator_workspace(
        self, workspace_id: str, api_key: str | Secret | None = None
    ) -> str:
        """Makes the keywords of this library act on workspace ``workspace_id`` and returns
        the id of the workspace they acted on before.

        `Define Process`, `Get Emulator Runs`, `Add Input Work Item`, `Get Emulator Work
        Items` and `Add Emulator Token` act on one workspace: the one the emulator started
        with, until this keyword switches. ``api_key`` is needed only for a workspace this
        library did not add or start (one of the emulator's ``--workspace`` options); it
        may be a ``Secret``. ProcessRunLibrary's sessions are not affected: each session
        has its own ``workspace_id``.

        Fails when the library does not know the workspace's key, or the emulator refuses
        it.

        Examples:
        | `Switch Emulator Workspace` | staging | |
        | `Define Process` | invoices | run_seconds=5 s |
        | ${previous} = | `Switch Emulator Workspace` | production |
        """
        self._require_running()
        if self._workspace is None:  # connected at import: learn which workspace that is
            current = str(self._admin("GET", "/workspaces").current)
            header = str(self._session.headers["Authorization"])
            self._keys[current], self._workspace = header[len("RC-WSKEY ") :], current
        key = self._keys.get(workspace_id) if api_key is None else _secret_value(api_key)
        if key is None:
            known = ", ".join(f"'{k}'" for k in self._keys) or "none"
            raise EmulatorError(
                f"No key for workspace '{workspace_id}': add it with 'Add Emulator Workspace' "
                f"or give its 'api_key'. Workspaces known: {known}."
            )
        previous, header = self._workspace, str(self._session.headers["Authorization"])
        self._session.headers["Authorization"] = f"RC-WSKEY {key}"
        try:
            current = self._admin("GET", "/workspaces").current
            if current != workspace_id:
                raise EmulatorError(
                    f"The key given opens workspace '{current}', not '{workspace_id}'."
                )
        except EmulatorError:
            self._session.headers["Authorization"] = header  # still the workspace before
            raise
        self._keys[workspace_id], self._workspace = key, workspace_id
        return previous or ""

    def reset_emulator(self, processes: bool = False) -> None:
        """Forgets every run, work item, fault rule and logged request, in every workspace
        the emulator serves.

        Processes defined with `Define Process` stay, unless ``processes`` is true: then the
        processes the emulator started with come back.

        Examples:
        | `Reset Emulator` | |
        | `Reset Emulator` | processes=${True} |
        """
        self._admin("POST", "/reset", {"processes": bool(processes)})

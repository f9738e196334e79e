"""One emulator as the Emulator library sees it: its process, and the one door to its
admin API.

Like Browser's ``grpc_channel()``, :meth:`Handle.admin` is the choke point: it checks that
the emulator is there and still alive, and turns every transport failure into an
:class:`EmulatorError`. The keyword classes only call it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import requests
from robot.utils import DotDict, secs_to_timestr, timestr_to_secs
from urllib3.exceptions import InsecureRequestWarning

READY_PREFIX = "Control Room emulator listening on "
KEY_PREFIX = "RC-WSKEY "


class EmulatorError(RuntimeError):
    """A failure of an emulator keyword; Robot shows only the message."""

    ROBOT_SUPPRESS_NAME = True


# --- argument converters shared by the keyword classes


def secret_value(value: Any) -> str:
    """The plain string of `value`, also when it is Robot Framework's `Secret`."""
    return str(getattr(value, "value", value))


def seconds(value: Any, argument: str) -> float:
    try:
        result = float(timestr_to_secs(value))
    except (ValueError, TypeError):
        raise EmulatorError(f"Argument '{argument}' is not a valid time: '{value}'.") from None
    if result < 0:
        raise EmulatorError(f"Argument '{argument}' must not be negative: '{value}'.")
    return result


def integer(value: Any, argument: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return int(str(value).strip())
    except ValueError:
        raise EmulatorError(f"Argument '{argument}' is not an integer: '{value}'.") from None


def json_argument(value: Any, argument: str) -> Any:
    """Lists and dictionaries as they are; a string is parsed as JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise EmulatorError(f"Argument '{argument}' is not valid JSON: '{value}'.") from None


# --- one emulator


@dataclass(eq=False)  # each is one emulator: two are never the same by their fields
class Handle:
    """What one emulator (one import name of the library) has of its own."""

    process: subprocess.Popen[str] | None = None  # only for an emulator this library started
    stderr: IO[str] | None = None
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    session: requests.Session = field(default_factory=requests.Session)
    url: str | None = None  # the API base URL, .../api/v1
    root: str | None = None  # the URL the admin paths /_emulator/... are under
    verify: bool | str = True
    keys: dict[str, str] = field(default_factory=dict)  # workspace id -> its key
    workspace: str | None = None  # the workspace the admin keywords act on

    @property
    def key(self) -> str:
        """The key the admin requests are sent with."""
        return str(self.session.headers["Authorization"])[len(KEY_PREFIX) :]

    @key.setter
    def key(self, key: str) -> None:
        self.session.headers["Authorization"] = f"{KEY_PREFIX}{key}"

    def use(self, api_url: str, api_key: Any, verify: bool) -> str:
        """Talks to the emulator at `api_url` from now on, with `api_key`; returns its API
        base URL."""
        url = api_url.rstrip("/")
        if not url.startswith(("http://", "https://")) or not url.endswith("/api/v1"):
            raise EmulatorError(
                f"Argument 'api_url' must be the emulator's http(s)://HOST:PORT/api/v1, got "
                f"'{api_url}'."
            )
        self.url = url
        self.root = url[: -len("/api/v1")]
        self.session = requests.Session()
        self.key = secret_value(api_key)
        self.verify = verify
        self.keys, self.workspace = {}, None
        return url

    def forget_url(self) -> None:
        self.url = self.root = None

    # --- the process

    def require_not_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise EmulatorError(f"The emulator is already running at {self.url}.")

    def start(self, options: list[str], secrets: dict[str, str], timeout: float) -> str:
        """Runs the emulator with command line `options` and `secrets` in its environment,
        and returns the address it reports on its first output line."""
        self._launch(options, secrets)
        return self._wait_for_address(timeout)[len(READY_PREFIX) :].strip()

    def _launch(self, options: list[str], secrets: dict[str, str]) -> None:
        env = dict(os.environ, **secrets)
        # The emulator runs this very copy of the package, installed or not.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        # Stays open while the emulator runs; closed by Stop Emulator.
        self.stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.lines = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ProcessRunLibrary.emulator", *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
        )
        threading.Thread(target=_read_stdout, args=(self.process, self.lines), daemon=True).start()

    def _wait_for_address(self, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
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
        if self.stderr is None:
            return ""
        self.stderr.seek(0)
        text = self.stderr.read().strip()
        return f" Its error output: {text}" if text else ""

    def _kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()

    def stop(self, timeout: float) -> str | None:
        """Stops the emulator this library started, killing it after `timeout`, and
        returns its address; an emulator only connected to is forgotten, not stopped."""
        process, self.process = self.process, None
        url = self.url
        self.forget_url()
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None
        self.session.close()
        return url

    # --- the admin API

    def require_running(self) -> str:
        """The API base URL, after checking that the emulator is there and alive."""
        if self.url is None:
            raise EmulatorError("No emulator: use 'Start Emulator' or 'Connect To Emulator' first.")
        if self.process is not None and self.process.poll() is not None:
            raise EmulatorError(
                f"The emulator started at {self.url} has exited with code "
                f"{self.process.returncode}.{self._error_output()}"
            )
        return self.url

    def admin(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """The answer of the admin API to `method` `/_emulator{path}`, as DotDicts."""
        self.require_running()
        url = f"{self.root}/_emulator{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            with warnings.catch_warnings():
                # A TLS emulator has a throwaway certificate that is not verified: say so
                # once in the docs, not on the console for every keyword.
                warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self.session.request(
                    method, url, params=query, json=body, timeout=30, verify=self.verify
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


def _read_stdout(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    # Keeps draining so that the emulator never blocks on a full pipe.
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


# --- what the keyword classes share


class _Library(Protocol):
    handle: Handle


class KeywordGroup:
    """Base of the keyword classes: each keyword acts on the emulator of the import name
    it was called by (the library's current `handle`)."""

    def __init__(self, library: _Library) -> None:
        self._library = library

    @property
    def handle(self) -> Handle:
        return self._library.handle

    def admin(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        return self.handle.admin(method, path, body, params)

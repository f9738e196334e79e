"""Robot Framework keywords that start, drive and stop the Control Room emulator.

The keywords live in `emulator_keywords/`, one class per concern, over one `Handle` per
emulator; this module is the library those classes make, with its docs and listeners. (A
package `Emulator/` would clash with `emulator/` on case-insensitive file systems.)
"""

from __future__ import annotations

import atexit
import contextlib
from typing import Any

from robot.libraries.BuiltIn import BuiltIn
from robotlibcore import DynamicCore

from ProcessRunLibrary.emulator_keywords.faults import FaultKeywords
from ProcessRunLibrary.emulator_keywords.handle import EmulatorError, Handle
from ProcessRunLibrary.emulator_keywords.lifecycle import LifecycleKeywords
from ProcessRunLibrary.emulator_keywords.processes import ProcessKeywords
from ProcessRunLibrary.listener import keyword_arguments, listeners
from ProcessRunLibrary.types import Secret, Time
from ProcessRunLibrary.version import VERSION

__all__ = ["Emulator", "EmulatorError"]


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


class Emulator(DynamicCore):
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
        self.handle = Handle()  # the emulator of the import name the running keyword has
        self._handles: dict[str, Handle] = {}  # import name -> its emulator
        if api_url:
            self.handle.use(api_url, "demo-key" if api_key is None else api_key, verify=True)
        super().__init__(
            [component(self) for component in (LifecycleKeywords, ProcessKeywords, FaultKeywords)]
        )
        self.ROBOT_LIBRARY_LISTENER = [
            _StopOnClose(self),
            _FollowAlias(self),
            # Keys and tokens given to these keywords are masked as ProcessRunLibrary's are,
            # also in a suite that imports only this library.
            *listeners(keyword_arguments(self)),
        ]
        atexit.register(self._stop_quietly)

    def _switch(self, name: str) -> None:
        """Makes the emulator of import name `name` the one the keywords use."""
        if name not in self._handles:
            # The first name used takes what the import connected to; a later new name
            # starts without an emulator.
            self._handles[name] = Handle() if self._handles else self.handle
        self.handle = self._handles[name]

    def _stop_quietly(self) -> None:
        # At interpreter exit nothing can be reported anyway. Every name's emulator stops.
        for handle in list(self._handles.values()) or [self.handle]:
            with contextlib.suppress(Exception):
                handle.stop(5.0)

"""ProcessRunLibrary: start, watch, stop and clean up Control Room process runs."""

from __future__ import annotations

import os
from typing import Any

from robotlibcore import DynamicCore

from . import masking
from .keywords import (
    ProcessKeywords,
    ProcessRunKeywords,
    SessionKeywords,
    StepRunKeywords,
    WaitingKeywords,
    WorkItemKeywords,
)
from .keywords.context import LibraryContext, Settings
from .types import CallbackEvent, Id, OnTimeout, ProcessRunState, Secret, Time, reveal
from .version import VERSION

__version__ = VERSION
__all__ = ["CallbackEvent", "Id", "OnTimeout", "ProcessRunLibrary", "ProcessRunState", "Time"]

SECRET_ARGUMENTS = frozenset({"api_key", "token", "callback_secret"})


class ProcessRunLibrary(DynamicCore):
    """ProcessRunLibrary starts, watches, stops and cleans up process runs in Robocorp
    Control Room (now Sema4.ai) through its Process Run API.

    Use it to orchestrate processes from a robot (start one, wait until it has ended,
    act on how it ended) and to test them (start a process, assert its outcome). It
    speaks the current Control Room API (``/api/v1``): it waits, stops and deletes
    runs, follows every page of a list, retries what is safe to retry, and gives every
    request a timeout.

    %TOC%

    = Sessions =

    A session is a Control Room workspace, with its API URL, its API key, and its own
    timeouts, retries and TLS settings. The library creates the session ``default``
    from its import arguments and environment variables the first time a keyword
    needs it, so most suites never create one. To use several workspaces, create
    sessions with `Create Control Room Session` and pick one per keyword with the
    ``alias`` argument that every keyword has, or make one current with
    `Switch Control Room Session`. The library has GLOBAL scope, like RequestsLibrary:
    sessions, and which one is current, outlive the suite that made them, so a suite
    that creates sessions should close them in its teardown with
    `Close All Control Room Sessions`.

    | = Setting =       | = Environment variable =  | = Default =                          |
    | ``api_url``       | ``RC_API_URL_V1``         | ``https://cloud.robocorp.com/api/v1`` |
    | ``workspace_id``  | ``RC_WORKSPACE_ID``       | (required)                           |
    | ``api_key``       | ``RC_API_KEY``, else ``RC_API_TOKEN_V1`` | (required)            |

    The API key is sent as ``Authorization: RC-WSKEY <key>``. Inside a Control Room
    run, where ``RC_API_TOKEN_V1`` holds a token, the token is sent as
    ``Authorization: Bearer <token>``. Nothing is sent and nothing fails at import:
    a missing setting fails the first keyword that needs it, with a message that
    names the argument and the environment variable.

    = Process run states =

    A run is ``new``, then ``in_progress``, and ends ``completed`` (success) or
    ``unresolved`` (it has failed work items). ``stopping`` comes between a stop
    request and the end. A run has *ended* when it is ``completed`` or
    ``unresolved``. See `ProcessRunState`.

    = Timeouts =

    Times are in Robot Framework's time format: ``90``, ``90 s``, ``1 minute 30
    seconds``, ``1h 10min`` (see `Time`).

    | = Setting =         | = Default =  | = What it limits =                                  |
    | ``request_timeout`` | 30 seconds   | one HTTP request (a session setting)                |
    | ``timeout``         | 30 minutes   | a ``Wait ...`` keyword (`Set Process Run Timeout`)  |
    | ``poll_interval``   | 10 seconds   | the longest pause between two polls (`Set Process Run Poll Interval`) |

    A Robot Framework test or keyword ``[Timeout]`` interrupts any keyword of this
    library, waits included, within about a second.

    = Waiting =

    `Wait Until Process Run Completes`, `Wait Until Process Runs Complete` and
    `Start Process Run And Wait` poll Control Room until the runs have ended. The
    first poll is immediate and the next ones come 0.1, 0.2, 0.4, ... seconds later:
    the pause doubles (with 10 % jitter) up to ``poll_interval``. A run that ends
    in a few seconds is seen within a fraction of a second of its end, and a wait
    of an hour costs about one request per ``poll_interval``. A ``Retry-After`` from
    Control Room is honoured. The time left in a wait also caps each request's
    timeout.

    A run that ends ``unresolved`` fails the wait (unless ``fail_on_unresolved`` is
    false) with its failed work items and their exceptions in the message. What
    happens when the time runs out is chosen with ``on_timeout`` (see `OnTimeout`),
    like ``on_timeout`` of the Process library's ``Wait For Process``.

    While waiting, the log gets one line when the wait starts, one per state change,
    and one at the end; each poll is logged at DEBUG. Waits longer than ten seconds
    also write their state changes to the console.

    = Retries =

    | = Request =                         | = Retried on =                                      |
    | GET (read, list) and DELETE         | connection errors, timeouts, 429, 502, 503, 504     |
    | POST stop                           | the same: stopping a run twice does no harm         |
    | POST start (both start keywords)    | only when Control Room certainly did not get it: the connection could not be made (refused, timed out, unknown host), or 429 |

    A start request that may have reached Control Room (no answer in time, a dropped
    connection, a 5xx from a proxy) is never repeated, since that could start two
    runs: the keyword fails with a message that says the run may have been started,
    and `List Process Runs` tells whether it exists. Retries back off exponentially
    (0.5 s, 1 s, 2 s, ... plus up to 0.25 s of jitter, at most 30 s) and honour
    ``Retry-After`` (seconds or an HTTP date), waiting at most 60 seconds for it.
    ``max_retries`` (default 3) is a session setting; ``0`` turns retries off. A
    rejected TLS certificate is not retried. Each retry is logged at INFO
    (``Retrying GET ... after HTTP 503 (retry 1 of 3).``).

    = Errors =

    A failed request fails the keyword with one line naming the method, the path,
    the HTTP status, and Control Room's error code and message:

    | GET /workspaces/ws1/process-runs/42 failed: 404 Not Found: not_found: Process run 42 was not found.

    When the request was retried, the message ends with ``(after N retries)``.

    Wrong arguments (an empty id, an id holding ``/``, ``?`` or ``#``, a payload that
    is not JSON, a negative time, an unknown state) fail before any request is sent,
    with a message that names the argument.

    = Logging and secrets =

    Each request is logged at INFO as one line (``GET /workspaces/ws1/process-runs/42
    -> 200 in 0.02 s``); request and response bodies are logged at DEBUG, truncated.

    The API key, Control Room tokens, integration tokens and callback secrets never
    appear in log.html, output.xml or the console, at any log level and also on
    failure: the library masks them as ``***`` in every message it logs, in the
    messages of urllib3, and, acting as a listener, in every message of the test run
    (Robot Framework itself shows keyword arguments at TRACE level). Robot Framework
    7.4 and newer also accept the key as a ``Secret``, which Robot never shows:

    | VAR | ${api key: Secret} | %{RC_API_KEY} |
    | Create Control Room Session | prod | api_key=${api key} |

    = TLS =

    Certificates are verified. ``verify`` accepts ``False`` (the session then logs one
    warning) or the path of a CA bundle for a Control Room behind a private CA.

    = Examples =

    Import the library; the workspace and key come from ``RC_WORKSPACE_ID`` and
    ``RC_API_KEY``:

    | Library | ProcessRunLibrary | timeout=20 minutes |

    Start a batch, wait for it, check its outputs:

    | ${run} = | Start Process Run And Wait | ${INVOICE PROCESS} | payloads=${INVOICES} |
    | Should Be Equal | ${run.state} | completed |
    | ${outputs} = | List Process Run Outputs | ${run.id} |
    | Length Should Be | ${outputs} | 3 |

    Stop a run, wait for its end, and clean up:

    | ${id} = | Start Process Run | ${LONG PROCESS} |
    | Stop Process Run | ${id} | reason=Maintenance window |
    | ${run} = | Wait Until Process Run Completes | ${id} | fail_on_unresolved=False |
    | Delete Process Run | ${id} |

    The bundled Control Room emulator (``ProcessRunLibrary.Emulator``, keywords in
    [Emulator.html|its keyword documentation], the server in
    [emulator.md|docs/emulator.md]) lets these suites run without a Control Room.
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = VERSION
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    ROBOT_LIBRARY_CONVERTERS = {Time: Time.convert, Id: Id.convert}
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(
        self,
        api_url: str | None = None,
        workspace_id: str | None = None,
        api_key: str | Secret | None = None,
        request_timeout: Time = "30 seconds",  # type: ignore[assignment]
        timeout: Time = "30 minutes",  # type: ignore[assignment]
        poll_interval: Time = "10 seconds",  # type: ignore[assignment]
        max_retries: int = 3,
        verify: bool | str = True,
    ) -> None:
        """Sets the defaults of the ``default`` session and of the ``Wait ...`` keywords.

        Every argument is optional; see `Sessions` for the environment variables
        that fill what is not given, and `Timeouts` for the times. ``max_retries``
        is how often a request that may safely be repeated is retried (see
        `Retries`); ``verify`` is ``True``, ``False`` or the path of a CA bundle
        (see `TLS`). Nothing is sent at import.

        Examples:
        | Library | ProcessRunLibrary |
        | Library | ProcessRunLibrary | workspace_id=${WS} | api_key=${KEY} | timeout=2 hours | poll_interval=30 s |
        | Library | ProcessRunLibrary | api_url=http://127.0.0.1:8123/api/v1 | max_retries=0 |
        """
        masking.register(
            reveal(api_key),
            os.environ.get("RC_API_KEY"),
            os.environ.get("RC_API_TOKEN_V1"),
        )
        self._ctx = LibraryContext(
            Settings(api_url, workspace_id, api_key, request_timeout, max_retries, verify),
            timeout,
            poll_interval,
        )
        self.ROBOT_LIBRARY_LISTENER = self
        super().__init__(
            [
                component(self._ctx)
                for component in (
                    SessionKeywords,
                    ProcessRunKeywords,
                    WaitingKeywords,
                    ProcessKeywords,
                    WorkItemKeywords,
                    StepRunKeywords,
                )
            ]
        )
        self._secret_positions = self._positions_of_secret_arguments()

    def _positions_of_secret_arguments(self) -> dict[str, list[int]]:
        """Keyword (normalised name) -> positions of its arguments that hold secrets."""
        positions = {}
        for name in self.get_keyword_names():
            args = [str(a[0] if isinstance(a, tuple) else a).split("=")[0]
                    for a in self.get_keyword_arguments(name)]  # fmt: skip
            found = [i for i, arg in enumerate(args) if arg in SECRET_ARGUMENTS]
            if found:
                positions[_normalise(name)] = found
        return positions

    # --- listener: mask secrets in every message of the run --------------------------

    def start_keyword(self, data: Any, result: Any) -> None:
        """Learn secrets given as positional arguments before Robot logs the arguments
        (Robot Framework 7+; named ones are masked by their name)."""
        positions = self._secret_positions.get(_normalise(getattr(result, "name", "") or ""))
        if not positions:
            return
        from robot.libraries.BuiltIn import BuiltIn

        given = [a for a in data.args if not (isinstance(a, str) and "=" in a)]
        for index in positions:
            if index < len(given):
                value = BuiltIn().replace_variables(given[index])
                masking.register(reveal(value))

    def log_message(self, message: Any) -> None:
        message.message = masking.mask(message.message)

    def message(self, message: Any) -> None:
        message.message = masking.mask(message.message)

    def end_keyword(self, data: Any, result: Any) -> None:
        if result.message:
            result.message = masking.mask(result.message)
        if result.args:  # output.xml keeps arguments as written, literal secrets too
            result.args = tuple(masking.mask(str(a)) for a in result.args)

    def end_test(self, data: Any, result: Any) -> None:
        if result.message:
            result.message = masking.mask(result.message)

    def end_suite(self, data: Any, result: Any) -> None:
        if result.message:
            result.message = masking.mask(result.message)


def _normalise(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "")

"""The library class: its intro docs, its import arguments, and its keywords gathered with
DynamicCore from keywords/. The package's ``__init__`` hands it out on first use, so
that importing the client alone loads no Robot Framework."""

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
from .listener import listeners, secret_arguments
from .types import Id, Secret, Time, reveal
from .typos import normalise, refuse_pending, typo_listener
from .version import VERSION


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

    = Work items =

    `List Processes` lists the workspace's processes; `Get Process Id` finds the id of
    the one process with an exact name (listed once per session, read again when a
    name is not found).

    A work item is one input of a process run: a JSON ``payload`` and files. Its state
    is a `WorkItemState`. `Create Input Work Item` puts a new item, with its files, into
    a process's input queue, where it waits (``new``) until a run takes it. Start that
    run with `Start Process Run` and ``use_input_queue=True`` (every waiting item) or
    ``work_item_ids=${ids}`` (the items given). `List Work Items` finds items by
    process, run and state; `Get Work Item` reads one with its payload and files.

    A run that ends ``unresolved`` has failed work items, and it can still become
    ``completed``: Control Room considers it complete when all its failed items are
    retried successfully or marked done. That makes a repair loop possible:

    | ${run} = | Wait Until Process Run Completes | ${id} | fail_on_unresolved=False |
    | ${failed} = | List Work Items | process_run_id=${id} | state=failed |
    | FOR | ${summary} | IN | @{failed} |
    | | ${item} = | Get Work Item | ${summary.id} |
    | | Set To Dictionary | ${item.payload} | customer=ACME |
    | | Update Work Item Payload | ${item.id} | ${item.payload} |
    | END |
    | Retry Work Items | ${failed} |
    | ${run} = | Wait Until Process Run Completes | ${id} |
    | Should Be Equal | ${run.state} | completed |

    `Mark Work Items Done` resolves failed items without processing them again, and
    `Delete Work Items` removes items, for example from an input queue.
    ``examples/repair_loop.robot`` in the project runs this loop against the bundled
    emulator.

    = Timeouts =

    Times are in Robot Framework's time format: ``90``, ``90 s``, ``1 minute 30
    seconds``, ``1h 10min`` (see `Time`).

    | = Setting =         | = Default =  | = What it limits =                                  |
    | ``request_timeout`` | 30 seconds   | one HTTP request, from connect to the last byte of the answer (a session setting) |
    | ``timeout``         | 30 minutes   | a ``Wait ...`` keyword, every request, retry and pause in it included (`Set Process Run Timeout`) |
    | ``poll_interval``   | 10 seconds   | the longest pause between two polls (`Set Process Run Poll Interval`) |

    Every bound is a bound, whatever the server does:

    - ``request_timeout`` limits a request as a whole: a server that sends one byte
      a second, or never answers, is cut off when it is up.
    - An upload (`Create Input Work Item`) is limited by its progress, so that a big
      file sent at a steady pace is never cut off: ``request_timeout`` limits
      connecting, each stretch in which less than 64 KiB of the file goes out, and
      the wait for the answer after the last byte. A stalled upload fails with
      ``the upload stalled (less than 64 KiB sent in 30 seconds).``
    - A keyword that is not a wait ends within ``(max_retries + 1) * request_timeout``
      plus the pauses between its retries (see `Retries`).
    - A wait ends within its ``timeout`` plus half a second: retries, backoff and
      ``Retry-After`` pauses all fit inside it, a ``Retry-After`` beyond the time left
      is not waited for, and after the deadline comes at most one last read of the
      state, of at most half a second. With ``on_timeout=stop`` the stop request
      comes after that, as one more request of its own.
    - `Start Process Run And Wait` is a start (bounded as above) and then a wait.

    A Robot Framework test or keyword ``[Timeout]`` interrupts any keyword of this
    library, waits included, within about a second.

    = Waiting =

    `Wait Until Process Run Completes`, `Wait Until Process Runs Complete` and
    `Start Process Run And Wait` poll Control Room until the runs have ended, and
    learn from the runs' process how long to wait between polls.

    *With a history.* The recent ended runs of a process (the newest 5, at least 3)
    predict when its next run will end: the range of their lengths (creation to end),
    widened on each side by half the mean gap between them. Until that window opens,
    the wait polls evenly, at most ``poll_interval`` apart, so that a poll falls on
    the window's start; within the window it polls every window / 14 seconds (at
    least 0.4 s), so the run is seen within a fraction of a second of its end for
    about 7 requests on average; a run that outlives the window is polled with
    doubling pauses again, up to ``poll_interval``. A run that ends early is still
    seen within ``poll_interval``.

    [predictive-polling.png|Polls of a 60 s run with and without a history]

    The picture (docs/predictive-polling.png, drawn from this schedule by
    bench/schedule_picture.py) shows the polls of a run of about 60 s with the default
    ``poll_interval``; docs/benchmarks.md has the measured lag and requests.

    *Without a history* (fewer than 3 ended runs, or lengths spread wider than half
    their median, or a window that would be polled no more densely than
    ``poll_interval``), the first poll is immediate and the next ones come 0.1, 0.2,
    0.4, ... seconds later: the pause doubles (with 10 % jitter) up to
    ``poll_interval``. A run that ends in a few seconds is seen within a fraction of
    a second of its end, and a wait of an hour costs about one request per
    ``poll_interval``. The doubling counts from the run's creation: a wait on a run
    created earlier polls when a wait begun at its creation would have, so one
    created a minute earlier is polled every ``poll_interval`` at once. While
    other runs of the process created earlier are still going, the pauses are no
    shorter than their head start (a run still going 30 seconds after it was
    created says this one will hardly end within the next second), and the wait
    reads its run through the process's list (the same one request), so that those
    runs, as they end, make a history mid-wait. With nothing of this known (the
    first run of a new process), the doubling stays: no schedule of times alone is
    better for runs of every length (docs/benchmarks.md has the figures).

    *Where the history comes from.* The lists a wait reads anyway: a group wait
    reads its runs from their process's list, and a single-run wait reads its run
    once through that list (the same one request) instead of by its id. Each session
    keeps a process's history for 10 minutes; a wait after that reads it again. The
    prediction counts from the run's ``created_at`` against this machine's clock
    (`Start Process Run And Wait`: from its start request), so a clock far off
    Control Room's moves the dense polls; ``expected_duration=`` (named only) replaces
    the history when you know better: the window is then that duration ± 10 %.

    A ``Retry-After`` from Control Room is honoured. The time left in a wait also
    caps each request's timeout.

    A run that ends ``unresolved`` fails the wait (unless ``fail_on_unresolved`` is
    false) with its failed work items and their exceptions, and the last console
    lines of its failed step run, in the message (see `Diagnosing a failed run`). What
    happens when the time runs out is chosen with ``on_timeout`` (see `OnTimeout`),
    like ``on_timeout`` of the Process library's ``Wait For Process``.

    While waiting, the log gets one line when the wait starts, one per state change,
    and one at the end; each poll is logged at DEBUG. Waits longer than ten seconds
    also write their state changes to the console.

    = Diagnosing a failed run =

    When an orchestrated run ends ``unresolved``, the parent robot's log tells why,
    without opening Control Room. The failure message of a ``Wait ...`` keyword
    names the failed work items with their exceptions and then gives the last five
    console lines of the step run that failed (terminal colours and control
    characters removed, each line cut after 200 characters):

    | Process run 9f2c of process 'Invoices' ended unresolved; by Control Room's clock it ran 42 seconds. Failed work items: wi-7 (business exception INVALID_PDF: No PDF in the mail).
    | Last console lines of step run 51ad (Process invoices):
    |     Processing invoice 7
    |     Invoice 7 failed: No PDF in the mail
    |     1 test, 0 passed, 1 failed

    With ``download_artifacts=True`` the wait also saves, once the run has ended,
    the artifacts of each of its step runs (the child robot's ``log.html`` and
    ``output.xml``) into ``${OUTPUT DIR}/process-runs/<process run id>/<step run
    id>``, and writes a block into log.html with a link to each file: a click on
    the child's ``log.html`` opens it.

    | ${run} = | Start Process Run And Wait | ${INVOICES} | payloads=${BATCH} | download_artifacts=True |

    Links are relative to the folder of log.html, so the output folder can be moved
    or archived as a whole.

    Under pabot, each process runs with ``--outputdir <outputdir>/pabot_results/<n>``
    and ``--log NONE``, and pabot merges every file named ``output.xml`` below
    ``pabot_results`` into its result: a child robot's ``output.xml`` saved there
    would break the merge. So under pabot, ``${OUTPUT DIR}`` in the default folders
    of the downloads stands for pabot's own ``<outputdir>``, where pabot writes the
    merged log.html, and the links are relative to it (give pabot no ``--log`` in
    another folder). Run ids are unique, so the processes do not collide.

    A download that fails is a warning; it does not change the outcome of the wait. To look further: `List Step Runs`, `List Step Run Console
    Messages`, `List Step Run Artifacts` and `Download Step Run Artifacts`.

    = Downloads =

    `Download Step Run Artifacts`, `Download Process Run Output Files` and
    ``download_artifacts=True`` share one way of downloading:

    - Each file is streamed to disk in chunks of 64 KiB, never held whole in memory,
      into a temporary file in the target folder that is renamed when complete: a
      failed download leaves no partial file. A file larger than 1 GiB fails.
    - A file name from the server is reduced to a safe base name: control and format
      characters are removed, only what follows the last ``/`` or ``\\`` is kept,
      ``< > : " | ? *`` become ``_``, runs of dots become one and dots and spaces at
      either end are removed, names Windows reserves (``CON``, ``NUL``, ...) get a
      leading ``_``, and names over 255 bytes are shortened before the extension.
      ``../../etc/passwd`` is saved as ``passwd``; a name with nothing left (``..``)
      is skipped with a warning. Nothing is ever written outside the folder.
    - Two files with the same safe name (ignoring case) get a space and ``(2)``,
      ``(3)`` before the extension: ``log.html``, ``log (2).html``. A file already in the
      folder with the name is replaced (so downloading again gives the same paths).
    - ``pattern`` is a case-sensitive glob (``*``, ``?``, ``[abc]``) matched against
      the safe name.
    - Download URLs are credentials for as long as they live: the session's
      Authorization header is never sent to them, and they never appear unmasked in
      log.html, output.xml or the console. A step run artifact's URL is asked for
      just before its download.
    - Downloads are retried like GET requests (connection errors, 429, 502, 503,
      504); a download that breaks off in the middle starts again, within the same
      ``max_retries``. A download is limited by its progress, like an upload:
      ``request_timeout`` limits connecting, the wait for the answer and each stretch
      in which less than 64 KiB of the file comes in, so a big file at a steady pace
      is never cut off, and one that stalls or drips fails with ``the download
      stalled (less than 64 KiB received in 30 seconds).``
    - Redirects (301, 302, 303, 307, 308) are followed, at most 5, to ``http`` or
      ``https`` URLs only, never from ``https`` to ``http``, never with credentials.
      Any final answer but 200 (204, 206 and 304 too) fails the download and leaves
      no file.

    = Retries =

    | = Request =                         | = Retried on =                                      |
    | GET (read, list) and DELETE         | connection errors, timeouts, 429, 502, 503, 504     |
    | POST stop                           | the same: stopping a run twice does no harm         |
    | POST under work items (create, files, payload, retry, mark done, delete) | only when Control Room certainly did not get it: creating an item twice would feed the process the same input twice |
    | an upload to a presigned URL        | like a GET: the file is sent again from its start   |
    | POST start (both start keywords)    | only when Control Room certainly did not get it: the connection could not be made (refused, timed out, unknown host), or 429 |

    A start request that may have reached Control Room (no answer in time, a dropped
    connection, a 5xx from a proxy, a redirect, an answer that is empty, cut short or
    not what Control Room answers) is never repeated, since that could start two
    runs: the keyword fails with a message that says the run may have been started,
    and `List Process Runs` tells whether it exists. Only ``{"started": false}`` says
    that no run was started. Retries back off exponentially
    (0.5 s, 1 s, 2 s, ... plus up to 0.25 s of jitter, at most 30 s) and honour
    ``Retry-After`` (seconds or an HTTP date), waiting at most 60 seconds for it, and
    inside a wait never past its timeout. ``max_retries`` (default 3) is a session
    setting; ``0`` turns retries off. A rejected TLS certificate and an answer above
    the size limit are not retried. Each retry is logged at INFO
    (``Retrying GET /workspaces/ws1/process-runs/42 after HTTP 503 (retry 1 of 3).``).

    = Errors =

    A failed request fails the keyword with one line naming the method, the path,
    the HTTP status, and Control Room's error code and message:

    | GET /workspaces/ws1/process-runs/42 failed: 404 Not Found: not_found: Process run 42 was not found.

    When the request was retried, the message ends with ``(after N retries)``.

    The library trusts nothing it receives. An answer that is not what Control Room
    sends fails the keyword with one line saying what was expected and what came
    (``200 OK with an unexpected answer: expected 'data' to be a list, got a string
    ("abc").``): an empty or non-JSON body, JSON that is not an object, a field of
    the wrong kind, JSON nested deeper than 64 levels, or a body larger than 10 MB.
    A listing fails when a ``next`` URL leads to a page already read, after
    10,000 pages, or when its pages add up to more than 200 MB.

    The API key and the token go only to the origin (scheme, host and port) of
    ``api_url``. A ``next`` URL on another origin (also ``http`` when ``api_url`` is
    ``https``) is not followed: the keyword fails naming that origin, and nothing is
    sent there. Redirects are followed only to the same origin and only for GET and
    DELETE; any other redirect fails with its status and the origin it points to.
    Presigned upload and download URLs get no credentials at all.

    Wrong arguments (an empty id, an id holding ``/``, ``?``, ``#`` or a control or
    invisible character, a payload that is not JSON or holds ``NaN`` or infinity, a
    negative, ``nan`` or infinite time, an ``api_url`` with a user name or password, a
    query or a bad port, an unknown state) fail before any request is sent, with a
    message that names the argument and shows at most 200 characters of the value.
    Bad import arguments (times, ``max_retries``) fail the first keyword that needs
    them, not the import: Robot would show every import argument, the key too.

    = Misspelt argument names =

    Robot Framework takes ``name=value`` as a named argument only when ``name`` is an
    argument of the keyword; any other ``name=value`` is passed on, whole, as the next
    positional argument. So that a misspelt name cannot pass silently, a ``name=value``
    whose ``name`` is close to an argument name of the keyword (the same ignoring case
    and underscores, or nearly the same letters) fails the keyword before anything is
    sent:

    | List Work Items got an unknown argument 'process_run' (did you mean 'process_run_id'?). To pass a value containing '=' positionally, escape it as 'process_run\\=...'.

    Only the call as written is read, as Robot reads it: a value that comes from a
    variable (``${value}``) and an escaped ``\\=`` are passed on as they are, so ids,
    payloads and URLs that hold ``=`` are never refused.

    ``robot --dryrun`` fails on these typos with Robot Framework 7.1 and newer. With
    6.1 and 7.0, a misspelt ``name=value`` that lands in an argument Robot converts (a
    time, a number, a state) fails with Robot's conversion message, which shows the
    value and that argument (for a time, followed by the message above); dry runs
    there catch only that kind.

    = Logging and secrets =

    Each request is logged at INFO as one line (``GET /workspaces/ws1/process-runs/42
    -> 200 in 0.02 s``); request and response bodies are logged at DEBUG, truncated.

    The API key, Control Room tokens, integration tokens, callback secrets and the signed
    URLs of outputs never appear in log.html, output.xml or the console, at any log level
    and also on failure:

    - The library's own lines and errors mask every secret it knows and anything shaped
      like a credential: ``token=``, ``access_token=``, ``sig=``, ``signature=``,
      ``X-Amz-Signature=``, ``X-Amz-Credential=`` and the like in URLs, and
      ``Authorization`` values. The messages of urllib3 are masked the same way.
    - The library is also a listener, which masks every secret it knows in every message,
      keyword argument and failure of the run (Robot Framework shows keyword arguments at
      TRACE level). It masks known values only: other libraries' text is never rewritten
      by its shape, so ``Should Be Equal  token=abc1  token=abc2`` still fails with both
      values. It learns a secret before Robot logs it: the ``api_key``, ``token`` and
      ``callback_secret`` arguments of this library's keywords (and ``api_key``,
      ``token`` and ``tokens`` of the Emulator library's), given by name or by position,
      also when a BuiltIn keyword such as ``Run Keyword And Expect Error`` runs them;
      arguments of your own keywords named ``api_key``, ``token`` or
      ``callback_secret``; and ``RC_API_KEY`` and ``RC_API_TOKEN_V1``, also when a suite
      sets them with ``Set Environment Variable`` after the import.
    - On Robot Framework 7.1 and newer, other listeners (``--listener``: ReportPortal,
      Allure and the like) get every message after the library has masked it: its
      listener has ``ROBOT_LISTENER_PRIORITY`` 1000, and listeners have 0 unless they say
      otherwise. Robot Framework 6.1 and 7.0 have no listener priority and call such
      listeners first: there they can see a key that Robot logs at TRACE. Pass keys
      through environment variables there when a listener ships data off the machine.
    - Robot Framework shows the arguments of a library's first import to every listener
      before the library exists (``Imported library 'ProcessRunLibrary' with arguments
      [ ... ]``, not in output.xml or log.html): give the key of the import through
      ``RC_API_KEY``, or as a ``Secret``.

    Robot Framework 7.4 and newer also accept keys and tokens as a ``Secret``, which Robot
    never shows:

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

    def __init__(
        self,
        api_url: str | None = None,
        workspace_id: str | None = None,
        api_key: str | Secret | None = None,
        request_timeout: Time = "30 seconds",  # type: ignore[assignment]
        timeout: Time = "30 minutes",  # type: ignore[assignment]
        poll_interval: Time = "10 seconds",  # type: ignore[assignment]
        max_retries: int | str = 3,  # checked lazily, like the times: see Settings
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
        arguments = self._keyword_arguments()
        self.ROBOT_LIBRARY_LISTENER = [
            *listeners(secret_arguments(arguments)),
            typo_listener(
                {normalise(name): names for name, names in arguments.items()}, ProcessRunLibrary
            ),
        ]

    def run_keyword(self, name: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
        refuse_pending(name)  # a misspelt named argument: nothing is sent
        return super().run_keyword(name, args, kwargs)

    def _keyword_arguments(self) -> dict[str, list[str]]:
        """Keyword -> names of its arguments in order: the listeners learn secrets and
        find misspelt argument names with them before Robot logs the arguments."""

        def names(keyword: str) -> list[str]:
            return [
                name
                for name in (
                    str(a[0] if isinstance(a, tuple) else a).split("=")[0]
                    for a in self.get_keyword_arguments(keyword)
                )
                if name.isidentifier()  # not the named-only marker '*'
            ]

        return {name: names(name) for name in self.get_keyword_names()}

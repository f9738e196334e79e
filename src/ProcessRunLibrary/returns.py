"""What the keywords return: Control Room's answers, documented for libdoc and IDEs.

These are ``TypedDict`` classes, as Browser documents its returned dictionaries: libdoc
lists their keys, and Python IDEs complete them. At run time the keywords return
dictionaries with dot access (``${run.state}``, ``${run.process.name}``) that hold
whatever Control Room sent, including keys not listed here: every JSON object of an
answer is read into a :class:`JsonDict` as it is parsed (``client.answers``), not
converted afterwards, which cost a listing of 10,000 runs a third of its time.
"""

from __future__ import annotations

from typing import Any, TypedDict


class ProcessReference(TypedDict):
    """The process a run belongs to: ``id`` and ``name``, as in Control Room."""

    id: str
    name: str


class StartedBy(TypedDict):
    """Who started a run. ``type`` is ``api``, ``user``, ``schedule`` or ``email``;
    ``details`` names the user (``id``, ``first_name``, ``last_name``) for ``user``
    and is ``None`` otherwise."""

    type: str
    details: dict[str, str] | None


class ProcessRun(TypedDict):
    """A process run as Control Room shows it, with dot access: ``${run.state}``.

    | = Key =      | = Value =                                                           |
    | ``id``         | The run's id: give it to `Get Process Run`, `Wait Until Process Run Completes`, `Stop Process Run`. |
    | ``state``      | ``new``, ``in_progress``, ``stopping``, ``completed`` or ``unresolved`` (see `Process run states`). |
    | ``created_at`` | When the run was created: an ISO 8601 time on Control Room's clock, e.g. ``2026-12-01T13:00:00.000Z``. |
    | ``started_at`` | When a worker started it (``None`` while ``new``), on Control Room's clock. |
    | ``ended_at``   | When it ended (``None`` until it has), on Control Room's clock.   |
    | ``duration``   | How long it ran, in seconds on Control Room's clock (``None`` until it ended). |
    | ``process``    | The process: ``${run.process.id}``, ``${run.process.name}``.       |
    | ``started_by`` | Who started it: ``${run.started_by.type}`` is ``api`` for runs this library starts. |
    """

    id: str
    state: str
    created_at: str
    started_at: str | None
    ended_at: str | None
    duration: float | None
    process: ProcessReference
    started_by: StartedBy


class RunReference(TypedDict):
    """The run an output belongs to: its ``id``."""

    id: str


class OutputFile(TypedDict):
    """A file of an output work item: ``name``, ``size`` in bytes, and its ``id``."""

    id: str
    name: str
    size: int


class ProcessRunOutput(TypedDict):
    """An output work item of a run, as `List Process Run Outputs` returns it.

    | = Key =       | = Value =                                                          |
    | ``id``          | The work item's id.                                              |
    | ``created_at``  | When it was created, an ISO 8601 time on Control Room's clock.   |
    | ``process``     | The process: ``${output.process.id}``.                           |
    | ``process_run`` | The run: ``${output.process_run.id}``.                           |
    | ``payload``     | The JSON payload the robot wrote: ``${output.payload}[invoice]``. |
    | ``files``       | Its files: ``${output.files}[0][name]``.                         |
    """

    id: str
    created_at: str
    process: ProcessReference
    process_run: RunReference
    payload: Any
    files: list[OutputFile]


class JsonDict(dict):
    """A dictionary whose keys are also attributes: ``${run.state}``, ``${run.process.id}``
    and ``${run}[state]`` all work, as with Robot Framework's ``DotDict``.

    A plain ``dict`` underneath, not an ``OrderedDict`` like ``DotDict``: made by one
    C-level copy, it costs a tenth of the time and half the memory (docs/benchmarks.md).
    Dictionary methods win over keys of the same name (``${d.items}``), as in ``DotDict``.
    """

    __slots__ = ()

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

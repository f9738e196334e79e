"""Argument types and validation shared by the keywords.

Enums and :class:`Time` are what libdoc shows as argument types; Robot Framework
converts arguments to them before a keyword runs, so a bad value fails with a message
that names the argument. The helpers below check what types cannot express. Every
check runs before any request is sent.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from typing import Any

from robot.utils import secs_to_timestr, timestr_to_secs

from .checks import (  # noqa: F401 - re-exported: the keyword modules import them from here
    ENDED_STATES,
    MAX_PAYLOAD_DEPTH,
    SHOWN_MAX,
    api_url_argument,
    boolean,
    id_list,
    json_payload,
    non_empty,
    non_negative_int,
    path_segment,
    positive_int,
    shown,
    verify_argument,
)
from .errors import InvalidArgument
from .secret import Secret as Secret  # the keyword modules import both from here
from .secret import reveal as reveal
from .typos import pending_typo


class ProcessRunState(Enum):
    """State of a process run in Control Room.

    | = State =       | = Meaning =                                                        |
    | ``new``         | Created, waiting for a worker.                                     |
    | ``in_progress`` | Its work items are being processed.                                |
    | ``stopping``    | A stop was requested; it ends soon.                                |
    | ``completed``   | Ended, every work item done. The run succeeded.                    |
    | ``unresolved``  | Ended with failed work items. It may still become ``completed`` when they are retried or marked done in Control Room. |

    A run has ended when it is ``completed`` or ``unresolved``. Names are matched
    case-insensitively, and spaces and underscores are ignored: ``in_progress``,
    ``IN PROGRESS`` and ``In Progress`` are the same state.
    """

    NEW = "new"
    IN_PROGRESS = "in_progress"
    STOPPING = "stopping"
    COMPLETED = "completed"
    UNRESOLVED = "unresolved"

    @property
    def has_ended(self) -> bool:
        return self in (ProcessRunState.COMPLETED, ProcessRunState.UNRESOLVED)


class WorkItemState(Enum):
    """State of a work item in Control Room.

    | = State =       | = Meaning =                                                          |
    | ``new``         | Created, not yet in a process run: an input item waiting in its process's input queue. |
    | ``pending``     | In a process run, waiting for its step to take it.                   |
    | ``in_progress`` | Being processed.                                                     |
    | ``failed``      | Processing failed; its ``exception`` tells why. It can be retried (`Retry Work Items`) or marked done (`Mark Work Items Done`). |
    | ``done``        | Processed, or marked done.                                           |

    Names are matched case-insensitively, and spaces and underscores are ignored:
    ``in_progress``, ``IN PROGRESS`` and ``In Progress`` are the same state.
    """

    NEW = "new"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    DONE = "done"


class OnTimeout(Enum):
    """What a ``Wait ...`` keyword does when its ``timeout`` runs out.

    | = Value =    | = Action =                                                                   |
    | ``fail``     | Fail with a message naming the run, the time waited and the last state. The default. |
    | ``continue`` | Log a warning and return the last process run seen; the test goes on.       |
    | ``stop``     | Ask Control Room to stop the run (like `Stop Process Run`), then fail with a message that says so. |
    """

    FAIL = "fail"
    CONTINUE = "continue"
    STOP = "stop"


class CallbackEvent(Enum):
    """A process run event that Control Room reports to a callback URL.

    | ``started``    | The run started.              |
    | ``completed``  | The run ended ``completed``.  |
    | ``unresolved`` | The run ended ``unresolved``. |
    """

    STARTED = "started"
    COMPLETED = "completed"
    UNRESOLVED = "unresolved"


class Id(str):
    """The id of a process, a process run, a work item, a step run or an artifact, as
    Control Room shows it.

    A non-empty string without ``/``, ``?``, ``#``, ``\\``, white space or control and
    invisible characters. Other values, ``${None}`` among them, are refused before any
    request is sent.
    """

    @staticmethod
    def convert(value: str) -> str:
        # No docstring: libdoc shows a converter's docstring as the type's documentation,
        # and the class docstring says it in user words. Only strings: Robot refuses
        # other values, naming the argument.
        return value


class Time:
    """A time in Robot Framework's time format.

    Accepts a number of seconds (``90``, ``1.5``) or a time string (``90 s``,
    ``1 minute 30 seconds``, ``1h 10min``), like BuiltIn's ``Sleep``. Times cannot be
    negative, ``nan`` or infinite. See the Robot Framework User Guide, section "Time
    format".
    """

    @staticmethod
    def convert(value: str | int | float | timedelta) -> float:
        # No docstring: libdoc shows the class docstring. Seconds in `value`; raises
        # ValueError saying what was expected.
        if isinstance(value, timedelta):
            seconds = value.total_seconds()
        else:
            try:
                seconds = timestr_to_secs(value)
            except (ValueError, TypeError):
                raise ValueError(
                    pending_typo(value)
                    or "expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'."
                ) from None
        if not math.isfinite(seconds):  # 'nan' waited forever, 'inf' overflowed
            raise ValueError("a time must be a finite number of seconds, not nan or infinity.")
        if seconds < 0:
            raise ValueError("a time cannot be negative.")
        return float(seconds)


def _parsed_once(converter: Callable[..., Any], accepts: Any) -> None:
    """Robot Framework 7.0 and newer read a library's ``ROBOT_LIBRARY_CONVERTERS`` anew
    on every keyword call (``TestLibrary.converters`` is a property), parsing each
    converter's signature and type hints each time: about 50 µs a converter on 7.5. A
    ready ``__signature__`` spares ``inspect`` its work and ``robot_types`` (the hook of
    ``@keyword(types=...)``) spares ``get_type_hints``; Robot Framework 7.3 and newer
    also take a ready ``TypeInfo`` as it is. Robot then converts as before, with the
    same accepted types (libdoc shows them), the same messages. Robot Framework 6.1
    parses converters once per library and needs none of this."""
    from robot.version import VERSION

    if int(VERSION.split(".")[0]) < 7:
        return
    from robot.running.arguments import TypeInfo

    info = TypeInfo.from_type_hint(accepts)
    ready = TypeInfo.from_type_hint(info) is info  # 7.3+: passed through, not parsed
    setattr(converter, "__signature__", inspect.signature(converter))  # noqa: B010
    setattr(converter, "robot_types", {"value": info if ready else accepts})  # noqa: B010


_parsed_once(Id.convert, str)
_parsed_once(Time.convert, str | int | float | timedelta)


def time_argument(name: str, value: Any) -> float:
    """Seconds in a time argument that Robot has not converted (a default, an import
    argument, a call from Python), failing with a message that names the argument."""
    try:
        return Time.convert(value)
    except ValueError as error:
        raise InvalidArgument(f"Argument '{name}' got value {shown(value)}: {error}") from None


def positive_time_argument(name: str, value: Any) -> float:
    """Like :func:`time_argument`, for times that must be more than zero."""
    seconds = time_argument(name, value)
    if seconds <= 0:
        raise InvalidArgument(f"Argument '{name}' must be more than 0 seconds.")
    return seconds


def timestr(seconds: float) -> str:
    return secs_to_timestr(seconds) if seconds else "0 seconds"

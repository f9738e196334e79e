"""Argument types and validation shared by the keywords.

Enums and :class:`Time` are what libdoc shows as argument types; Robot Framework
converts arguments to them before a keyword runs, so a bad value fails with a message
that names the argument. The helpers below check what types cannot express. Every
check runs before any request is sent.
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import Enum
from typing import Any
from urllib.parse import quote, urlsplit

from robot.utils import secs_to_timestr, timestr_to_secs

from .errors import InvalidArgument

MAX_PAYLOAD_DEPTH = 32


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


ENDED_STATES = frozenset({"completed", "unresolved"})


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
    """The id of a process or of a process run, as Control Room shows it.

    A non-empty string without ``/``, ``?``, ``#``, ``\\`` or white space. Other
    values, ``${None}`` among them, are refused before any request is sent.
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
    negative. See the Robot Framework User Guide, section "Time format".
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
                    "expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'."
                ) from None
        if seconds < 0:
            raise ValueError("a time cannot be negative.")
        return float(seconds)


def time_argument(name: str, value: Any) -> float:
    """Seconds in a time argument that Robot has not converted (a default, an import
    argument, a call from Python), failing with a message that names the argument."""
    try:
        return Time.convert(value)
    except ValueError as error:
        raise InvalidArgument(f"Argument '{name}' got value '{value}': {error}") from None


def positive_time_argument(name: str, value: Any) -> float:
    """Like :func:`time_argument`, for times that must be more than zero."""
    seconds = time_argument(name, value)
    if seconds <= 0:
        raise InvalidArgument(f"Argument '{name}' must be more than 0 seconds.")
    return seconds


def timestr(seconds: float) -> str:
    return secs_to_timestr(seconds) if seconds else "0 seconds"


def positive_int(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"Argument '{name}' must be a positive integer, got {value!r}.")
    return value


def non_negative_int(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if (
        number < 0
        or isinstance(value, bool)
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise InvalidArgument(
            f"Argument '{name}' must be a whole number of 0 or more, got {value!r}."
        )
    return number


def json_payload(name: str, value: Any) -> Any:
    """A work item payload: a dictionary, a list, or a string holding JSON."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise InvalidArgument(
                f"Argument '{name}' must be a dictionary, a list or a string holding JSON, "
                f"got a string that is not JSON ({error})."
            ) from None
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as error:
        raise InvalidArgument(
            f"Argument '{name}' must be a dictionary, a list or a string holding JSON, "
            f"got a value that cannot be sent as JSON ({error})."
        ) from None
    if _depth(value) > MAX_PAYLOAD_DEPTH:
        raise InvalidArgument(
            f"Argument '{name}' is nested deeper than {MAX_PAYLOAD_DEPTH} levels."
        )
    return json.loads(text)  # plain dicts and lists, also when given DotDicts


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_PAYLOAD_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, (list, tuple)):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def api_url_argument(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(
            f"Argument 'api_url' must be an http:// or https:// URL, got '{value}'."
        )
    if parts.query or parts.fragment:
        raise InvalidArgument(
            f"Argument 'api_url' must not have a query or a fragment, got '{value}'."
        )
    return value.strip().rstrip("/")


def verify_argument(value: Any) -> bool | str:
    """``True``, ``False`` or a path to a CA bundle."""
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.upper() in ("TRUE", "YES", "ON", "1"):
        return True
    if text.upper() in ("FALSE", "NO", "OFF", "0", "NONE", ""):
        return False
    import os

    if not os.path.exists(text):
        raise InvalidArgument(
            f"Argument 'verify' must be True, False or the path to a CA bundle, got '{text}' "
            "(no such file)."
        )
    return text


try:  # Robot Framework 7.4+: secrets that Robot itself never logs.
    from robot.api.types import Secret
except ImportError:  # pragma: no cover - older Robot Framework
    Secret = None


def reveal(value: Any) -> Any:
    """The string inside a ``Secret``; other values as they are."""
    if Secret is not None and isinstance(value, Secret):
        return value.value
    return value


def boolean(name: str, value: Any) -> bool:
    """Robot passes strings it cannot read as a boolean on as they are: refuse them."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"Argument '{name}' must be True or False, got {value!r}.")
    return value


def non_empty(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"Argument '{name}' must be a non-empty string, got {value!r}.")
    return value


def path_segment(name: str, value: object) -> str:
    """Validate an id that goes into a URL path, naming the argument when it is bad."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"Argument '{name}' must be a non-empty id, got {value!r}.")
    bad = sorted({c for c in value if c in "/?#\\" or c.isspace()})
    if bad or value in (".", ".."):
        shown = ", ".join(repr(c) for c in bad) or repr(value)
        raise InvalidArgument(
            f"Argument '{name}' must be an id without '/', '?', '#', '\\' or white space, "
            f"got {value!r} (contains {shown})."
        )
    return quote(value, safe="")

"""Argument types and validation shared by the keywords.

Enums and :class:`Time` are what libdoc shows as argument types; Robot Framework
converts arguments to them before a keyword runs, so a bad value fails with a message
that names the argument. The helpers below check what types cannot express. Every
check runs before any request is sent.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from typing import Any
from urllib.parse import quote, urlsplit

from robot.utils import secs_to_timestr, timestr_to_secs

from .errors import InvalidArgument
from .typos import pending_typo

MAX_PAYLOAD_DEPTH = 32
SHOWN_MAX = 200  # a failure message shows at most this much of an argument's value


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


def shown(value: Any) -> str:
    """``repr(value)`` for a failure message, cut after :data:`SHOWN_MAX` characters:
    a message never repeats a long argument in full."""
    text = repr(value)
    if len(text) <= SHOWN_MAX:
        return text
    length = len(value) if isinstance(value, (str, list, dict, tuple)) else len(text)
    return f"{text[:SHOWN_MAX]}... (cut, {length} characters in all)"


def timestr(seconds: float) -> str:
    return secs_to_timestr(seconds) if seconds else "0 seconds"


def positive_int(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"Argument '{name}' must be a positive integer, got {shown(value)}.")
    return value


def non_negative_int(name: str, value: Any) -> int:
    """A whole number of 0 or more; a string holding one counts (import arguments)."""
    number: Any = value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = int(value.strip())
    if (
        isinstance(number, bool)
        or not isinstance(number, (int, float))
        or (isinstance(number, float) and not number.is_integer())
        or number < 0
    ):
        raise InvalidArgument(
            f"Argument '{name}' must be a whole number of 0 or more, got {shown(number)}."
        )
    return int(number)


def json_payload(name: str, value: Any) -> Any:
    """A work item payload: a dictionary, a list, or a string holding JSON."""
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=_no_constant)
        except ValueError as error:
            raise InvalidArgument(
                f"Argument '{name}' must be a dictionary, a list or a string holding JSON, "
                f"got a string that is not JSON ({error})."
            ) from None
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        raise InvalidArgument(
            f"Argument '{name}' holds a number that is not finite (nan or infinity): "
            "JSON cannot carry it."
        ) from None
    except TypeError as error:
        raise InvalidArgument(
            f"Argument '{name}' must be a dictionary, a list or a string holding JSON, "
            f"got a value that cannot be sent as JSON ({error})."
        ) from None
    if _depth(value) > MAX_PAYLOAD_DEPTH:
        raise InvalidArgument(
            f"Argument '{name}' is nested deeper than {MAX_PAYLOAD_DEPTH} levels."
        )
    return json.loads(text)  # plain dicts and lists, also when given DotDicts


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_PAYLOAD_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, (list, tuple)):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def api_url_argument(value: str, name: str = "api_url") -> str:
    """An http(s) URL without credentials, query or fragment, with a valid port."""
    parts = urlsplit(value.strip())
    if parts.username is not None or parts.password is not None:
        # Never shown: the password is a secret, and requests would have sent it as
        # Basic auth in place of the API key.
        raise InvalidArgument(
            f"Argument '{name}' must not hold a user name or password: Control Room "
            "authenticates with the API key."
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(
            f"Argument '{name}' must be an http:// or https:// URL, got {shown(value)}."
        )
    if "?" in value or "#" in value:
        raise InvalidArgument(
            f"Argument '{name}' must not have a query or a fragment, got {shown(value)}."
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidArgument(
            f"Argument '{name}' must have a port from 1 to 65535, got {shown(value)}."
        ) from None
    if port == 0 or not parts.hostname:
        raise InvalidArgument(
            f"Argument '{name}' must have a host and a port from 1 to 65535, got {shown(value)}."
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
            "Argument 'verify' must be True, False or the path to a CA bundle, got "
            f"{shown(text)} (no such file)."
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
        raise InvalidArgument(f"Argument '{name}' must be True or False, got {shown(value)}.")
    return value


def non_empty(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"Argument '{name}' must be a non-empty string, got {shown(value)}.")
    return value


def id_list(name: str, value: Any) -> list[str]:
    """A non-empty list of ids, each one following the rules of :func:`path_segment`."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)) or not value:
        raise InvalidArgument(f"Argument '{name}' must be a non-empty list of ids, got {value!r}.")
    for item in value:
        path_segment(name, item)
    return list(value)


def path_segment(name: str, value: object) -> str:
    """Validate an id that goes into a URL path, naming the argument when it is bad."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"Argument '{name}' must be a non-empty id, got {shown(value)}.")
    bad = sorted({c for c in value if c in "/?#\\" or c.isspace()})
    if bad or value in (".", ".."):
        which = ", ".join(repr(c) for c in bad) or repr(value)
        raise InvalidArgument(
            f"Argument '{name}' must be an id without '/', '?', '#', '\\' or white space, "
            f"got {shown(value)} (contains {which})."
        )
    # Control and invisible characters (NUL, ESC, DEL, U+202E, a BOM): never printable.
    hidden = sorted({c for c in value if not c.isprintable()})
    if hidden:
        which = ", ".join(f"U+{ord(c):04X}" for c in hidden)
        raise InvalidArgument(
            f"Argument '{name}' must be an id without control or invisible characters, "
            f"got {shown(value)} (contains {which})."
        )
    return quote(value, safe="")

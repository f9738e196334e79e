"""Argument checks that need no Robot Framework: what the client and the keywords share.

Each check names the argument in its failure (an :class:`InvalidArgument`), before any
request is sent. :mod:`ProcessRunLibrary.types` re-exports them for the keyword modules;
the client imports them from here, so that ``import ProcessRunLibrary.client`` loads no
``robot`` module.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import InvalidArgument

MAX_PAYLOAD_DEPTH = 32
SHOWN_MAX = 200  # a failure message shows at most this much of an argument's value

# The states in which a process run has ended (inferred: docs/design.md).
ENDED_STATES = frozenset({"completed", "unresolved"})


def shown(value: Any) -> str:
    """``repr(value)`` for a failure message, cut after :data:`SHOWN_MAX` characters:
    a message never repeats a long argument in full."""
    text = repr(value)
    if len(text) <= SHOWN_MAX:
        return text
    length = len(value) if isinstance(value, (str, list, dict, tuple)) else len(text)
    return f"{text[:SHOWN_MAX]}... (cut, {length} characters in all)"


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

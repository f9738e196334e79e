"""A misspelt named argument fails instead of passing silently as a positional value.

Robot Framework treats ``name=value`` as a named argument only when ``name`` is one of
the keyword's argument names; otherwise the whole text becomes the next positional
argument. ``List Work Items  process_run=${id}`` therefore sent
``process_id=process_run=...`` and found nothing. This module finds such a value in the
keyword call *as written*, before Robot resolves or converts anything, where an escaped
``\\=`` can still be told from a real one: a value that Robot passes on positionally
because its name is unknown, and whose name is close to one of the keyword's argument
names, is a typo. Values from variables (``${id}``, ``@{args}``) are never looked at:
Robot never reads those as named arguments either.

The check runs in :class:`TypoListener`, a library listener. The keyword then fails:

- in ``run_keyword`` of the library, before anything is sent (:func:`refuse_pending`);
- on Robot Framework 7.1 and newer, also when Robot's own conversion of the misspelt
  value (a time, a number, a state) failed first, and in ``robot --dryrun``: the
  listener's ``end_keyword`` gives the keyword this module's message (older versions
  ignore what ``end_keyword`` changes).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from robot.utils import split_from_equals

from .errors import InvalidArgument

# How alike a name must be to an argument name to count as a typo of it (difflib's
# ratio: 'paylod' is 0.92 like 'payload', 'process_run' 0.88 like 'process_run_id').
CUTOFF = 0.8

# (keyword, message, misspelt name) of the library keyword starting, when it has a typo.
_pending: tuple[str, str, str] | None = None


def normalise(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "")


def unknown_argument(keyword: str, names: Sequence[str], args: Iterable[Any]) -> str | None:
    """The failure message for the first argument of ``args`` (as written in the data)
    that looks like a misspelt named argument of ``keyword``, or ``None``."""
    typo = misspelt(names, args)
    return typo and message(keyword, *typo)


def misspelt(names: Sequence[str], args: Iterable[Any]) -> tuple[str, str] | None:
    """The first misspelt name among ``args`` and the argument name it stands for."""
    for arg in args:
        if not isinstance(arg, str) or "=" not in arg:
            continue
        name, value = split_from_equals(arg)  # None when every '=' is escaped
        if value is None or not name.isidentifier() or name in names:
            continue
        intended = closest(name, names)
        if intended:
            return name, intended
    return None


def message(keyword: str, name: str, intended: str) -> str:
    return (
        f"{keyword} got an unknown argument '{name}' (did you mean '{intended}'?). "
        f"To pass a value containing '=' positionally, escape it as '{name}\\=...'."
    )


def closest(name: str, names: Sequence[str]) -> str | None:
    """The argument name ``name`` most likely means: the same ignoring case and
    underscores, else the most alike above :data:`CUTOFF`."""
    wanted = normalise(name)
    for candidate in names:
        if normalise(candidate) == wanted:
            return candidate
    matches = difflib.get_close_matches(name.lower(), names, n=1, cutoff=CUTOFF)
    return matches[0] if matches else None


def learn_secret(args: list[Any], name: str, intended: str) -> None:
    """A misspelt ``api_ky=${KEY}`` holds a key all the same: it becomes a secret
    before Robot logs the arguments at TRACE (the secrets listener learns only the
    arguments named right)."""
    from robot.libraries.BuiltIn import BuiltIn

    from . import masking
    from .masking import SECRET_ARGUMENTS
    from .secret import reveal

    if intended not in SECRET_ARGUMENTS:
        return

    written = next(a for a in args if isinstance(a, str) and a.startswith(f"{name}="))
    builtin = BuiltIn()
    try:
        if builtin.dry_run_active:  # nothing is resolved or logged
            return
        value = reveal(builtin.replace_variables(written.split("=", 1)[1]))
    except Exception:  # an undefined variable: Robot reports it itself
        return
    if isinstance(value, str):
        masking.register(value, value.strip())


def refuse_pending(keyword: str) -> None:
    """Fails the keyword about to run when its call holds a typo."""
    global _pending
    if _pending is not None:
        name, text, _ = _pending
        _pending = None
        if name == normalise(keyword):
            raise InvalidArgument(text)


def pending_typo(value: object) -> str | None:
    """The typo message when ``value`` is the misspelt ``name=value`` of the keyword
    starting. Robot Framework converts it before the keyword runs when it lands in a
    typed argument; a converter that cannot convert it says this instead of only
    what it expected (Robot Framework 6.1 and 7.0 show that message as it is)."""
    if _pending is None or not isinstance(value, str):
        return None
    _, text, name = _pending
    return text if value.split("=", 1)[0] == name else None


class TypoListener:
    """Finds typos in calls of the library's keywords as they start (listener API
    version 3, Robot Framework 7.0 and newer; its ``end_library_keyword`` can change a
    keyword's outcome from 7.1 on)."""

    ROBOT_LISTENER_API_VERSION = 3
    ROBOT_LISTENER_PRIORITY = 0  # after the secrets listener: it masks, this one replaces

    def __init__(self, arguments: dict[str, list[str]], library: type) -> None:
        """``arguments``: keyword (normalised name) -> names of its arguments;
        ``library``: the library class, whose keywords alone are checked (another
        library may have a keyword of the same name)."""
        from robot.version import VERSION

        self.arguments = arguments
        self.library = library
        # Robot Framework 7.0 would show the change in the log, and still not fail.
        self.can_fail = tuple(int(p) for p in re.findall(r"\d+", VERSION)[:2]) >= (7, 1)

    def check(self, name: str, args: Iterable[Any]) -> None:
        global _pending
        keyword = normalise(name)
        names = self.arguments.get(keyword)
        if names is not None:
            args = list(args)
            typo = misspelt(names, args)
            _pending = (keyword, message(name, *typo), typo[0]) if typo else None
            if typo:
                learn_secret(args, *typo)

    def start_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        code = getattr(getattr(implementation, "owner", None), "code", None)
        if isinstance(code, type) and issubclass(code, self.library):
            self.check(result.name or "", data.args)

    def end_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        global _pending
        if self.can_fail and _pending is not None and _pending[0] == normalise(result.name or ""):
            # Not refused by run_keyword: Robot's conversion failed first, or a dry run.
            result.status, result.message = "FAIL", _pending[1]
        _pending = None


class TypoListenerV2:
    """Robot Framework 6.1 calls version 3 listeners for suites, tests and messages
    only: this version 2 listener sees the keyword calls there."""

    ROBOT_LISTENER_API_VERSION = 2
    ROBOT_LISTENER_PRIORITY = 0

    def __init__(self, listener: TypoListener) -> None:
        self.listener = listener

    def start_keyword(self, name: str, attrs: dict[str, Any]) -> None:
        self.listener.check(attrs.get("kwname") or name, attrs.get("args", ()))

    def end_keyword(self, name: str, attrs: dict[str, Any]) -> None:
        global _pending
        _pending = None


def typo_listener(arguments: dict[str, list[str]], library: type) -> TypoListener | TypoListenerV2:
    """The listener for the running Robot Framework version."""
    from robot.version import VERSION

    listener = TypoListener(arguments, library)
    return listener if int(VERSION.split(".")[0]) >= 7 else TypoListenerV2(listener)

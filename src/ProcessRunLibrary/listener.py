"""The library's listener: every secret the library knows is masked in every message of
the run, before other listeners, output.xml and log.html get it.

It masks known values only (:func:`masking.mask_known`): other libraries' text is never
rewritten by pattern, so ``Should Be Equal  token=abc1  token=abc2`` still shows both
values. It learns secrets before Robot Framework logs them:

- the library's own keywords: the arguments that take a secret (``api_key``, ``token``,
  ``callback_secret``), positional or named, when the keyword starts (Robot logs the
  resolved arguments at TRACE just after);
- user keywords: Robot's TRACE line of their arguments, for arguments named like those
  (``${api_key}='...'``, ``&{kwargs}={'api_key': '...'}``), before the line is logged;
- ``Set Environment Variable  RC_API_KEY  ...`` (and ``RC_API_TOKEN_V1``) when it starts,
  and the values of those environment variables whenever a message comes.

It never fails a keyword and never logs an error: a value it cannot resolve (an
undefined variable, a dry run) is left to Robot Framework, which reports it itself.
"""

from __future__ import annotations

import ast
import contextlib
import os
from typing import Any

from . import masking
from .masking import SECRET_ARGUMENTS
from .secret import reveal

SECRET_VARIABLES = ("RC_API_KEY", "RC_API_TOKEN_V1")
_encode = getattr(os.environ, "encodekey", None)
_STORED_KEYS = tuple(_encode(n) for n in SECRET_VARIABLES) if callable(_encode) else ()
_environment_seen: tuple[object, ...] | None = None  # their stored values at the last look
# BuiltIn keywords that run the keyword named among their arguments (normalised prefixes).
WRAPPERS = ("runkeyword", "waituntilkeywordsucceeds", "repeatkeyword")
# Robot Framework 7.1 and newer call listeners with a higher priority first. Listeners
# have priority 0 unless they say otherwise.
PRIORITY = 1000


class SecretsListener:
    """Listener API version 3 (Robot Framework 7+ has its keyword methods)."""

    ROBOT_LISTENER_API_VERSION = 3
    ROBOT_LISTENER_PRIORITY = PRIORITY

    _last: Any = None  # the message masked last, by any instance

    def __init__(self, arguments: dict[str, list[str]]) -> None:
        """``arguments``: keyword (normalised name) -> names of its arguments in order."""
        self.arguments = arguments

    # --- learning -------------------------------------------------------------------

    def learn(self, name: str, owner: str | None, args: Any) -> None:
        """Learn the secrets among the arguments of a keyword that is about to run."""
        try:
            keyword = normalise(name.rsplit(".", 1)[-1] if owner is None else name)
            if keyword == "setenvironmentvariable" and owner in (None, "OperatingSystem"):
                self._learn_environment(list(args))
            elif keyword in self.arguments:
                self._learn_arguments(self.arguments[keyword], list(args))
            elif keyword.startswith(WRAPPERS) and owner in (None, "BuiltIn"):
                self._learn_wrapped(list(args))
        except Exception:
            return

    def _learn_arguments(self, names: list[str], args: list[Any]) -> None:
        builtin = _builtin()
        if builtin is None:
            return
        positional: list[Any] = []
        for arg in args:
            if isinstance(arg, str) and arg.startswith("&{"):
                given = _resolve(builtin, arg)
                if isinstance(given, dict):
                    for secret in SECRET_ARGUMENTS:
                        _register(given.get(secret))
            elif isinstance(arg, str) and arg.startswith("@{"):
                given = _resolve(builtin, arg)
                positional.extend(given if isinstance(given, list) else [None])
            elif isinstance(arg, str) and arg.split("=", 1)[0] in names and "=" in arg:
                argument, value = arg.split("=", 1)
                if argument in SECRET_ARGUMENTS:
                    _register(_resolve(builtin, value))
            else:
                positional.append(arg)
        for index, argument in enumerate(names[: len(positional)]):
            if argument in SECRET_ARGUMENTS:
                value = positional[index]
                _register(_resolve(builtin, value) if isinstance(value, str) else value)

    def _learn_wrapped(self, args: list[Any]) -> None:
        """`Run Keyword And Expect Error  *  Add Emulator Workspace  ws  key`: BuiltIn logs
        its own arguments (the wrapped keyword's among them) before the wrapped keyword
        starts, so the secrets are learned from the wrapper's arguments."""
        for index, arg in enumerate(args):
            name = normalise(str(arg).rsplit(".", 1)[-1])
            if name in self.arguments:
                self._learn_arguments(self.arguments[name], args[index + 1 :])
                return

    def _learn_environment(self, args: list[Any]) -> None:
        builtin = _builtin()
        if (
            builtin is not None
            and len(args) >= 2
            and _resolve(builtin, args[0]) in SECRET_VARIABLES
        ):
            masking.register(reveal(_resolve(builtin, args[1])))

    # --- listener methods -----------------------------------------------------------

    def start_keyword(self, data: Any, result: Any) -> None:
        self.learn(result.name or "", getattr(result, "owner", None), data.args)

    def log_message(self, message: Any) -> None:
        # With ProcessRunLibrary and its Emulator imported, two instances listen: the
        # second has nothing left to mask.
        if message is SecretsListener._last:
            return
        SecretsListener._last = message
        learn_environment()
        text = message.message
        if message.level == "TRACE" and text.startswith("Arguments: ["):
            masking.learn_from_argument_line(text)
        masked = masking.mask_known(text)
        if masked != text:
            message.message = masked

    def message(self, message: Any) -> None:
        learn_environment()
        masked = masking.mask_known(message.message)
        if masked != message.message:
            message.message = masked

    def end_keyword(self, data: Any, result: Any) -> None:
        if result.message:
            result.message = masking.mask_known(result.message)
        if result.args:  # output.xml keeps arguments as written, literal secrets too
            args = [str(a) for a in result.args]
            # One look at them all: a secret in any argument is in the joined text, and
            # NUL (in no secret, no word of a URL) keeps one from spanning two of them.
            joined = "\0".join(args)
            if masking.mask_known(joined) != joined:
                result.args = tuple(masking.mask_known(a) for a in args)

    def end_test(self, data: Any, result: Any) -> None:
        if result.message:
            result.message = masking.mask_known(result.message)

    def end_suite(self, data: Any, result: Any) -> None:
        if result.message:
            result.message = masking.mask_known(result.message)


class KeywordWatcherV2:
    """Robot Framework 6.1 calls version 3 listeners for suites, tests and messages only:
    this version 2 listener learns the secrets among keyword arguments there."""

    ROBOT_LISTENER_API_VERSION = 2
    ROBOT_LISTENER_PRIORITY = PRIORITY

    def __init__(self, listener: SecretsListener) -> None:
        self.listener = listener

    def start_keyword(self, name: str, attrs: dict[str, Any]) -> None:
        self.listener.learn(
            attrs.get("kwname") or name, attrs.get("libname"), attrs.get("args", ())
        )


def listeners(arguments: dict[str, list[str]]) -> list[object]:
    """The library's listeners for the running Robot Framework version."""
    from robot.version import VERSION

    listener = SecretsListener(arguments)
    if int(VERSION.split(".")[0]) >= 7:
        return [listener]
    return [listener, KeywordWatcherV2(listener)]


def learn_environment() -> None:
    """The key and token in the environment are secrets wherever they came from."""
    global _environment_seen
    stored = getattr(os.environ, "_data", None)  # what os.environ reads and writes
    if isinstance(stored, dict) and _STORED_KEYS:
        # Every message comes here: compare the values as os.environ stores them (bytes
        # on POSIX) instead of decoding them again while they stay the same.
        seen = tuple(map(stored.get, _STORED_KEYS))
        if seen == _environment_seen:
            return
        _environment_seen = seen
    for name in SECRET_VARIABLES:
        value = os.environ.get(name)
        if value and not masking.is_known(value):
            masking.register(value)


def _register(value: Any) -> None:
    """A secret argument's value: a string, a ``Secret``, a number, or a list of them
    (``tokens``), also a list written as a string (Robot converts ``tokens=["a"]`` to a
    list after this). A string is also learned without the spaces at its ends
    (``key${SPACE}`` is logged as written)."""
    value = reveal(value)
    if isinstance(value, str) and value.lstrip().startswith("["):
        with contextlib.suppress(ValueError, SyntaxError, TypeError, MemoryError):
            value = ast.literal_eval(value.strip())
    for item in value if isinstance(value, (list, tuple)) else [value]:
        item = reveal(item)
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, str):
            masking.register(item, item.strip())


def secret_arguments(keywords: dict[str, list[str]]) -> dict[str, list[str]]:
    """Of `keywords` (name -> names of its arguments in order), those that take a secret,
    by normalised name: the table a listener learns secrets with."""
    return {normalise(k): a for k, a in keywords.items() if SECRET_ARGUMENTS & set(a)}


def normalise(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "")


def _builtin() -> Any:
    from robot.libraries.BuiltIn import BuiltIn

    builtin = BuiltIn()
    try:
        if builtin.dry_run_active:  # nothing runs, nothing is resolved or logged
            return None
    except Exception:
        return None
    return builtin


def _resolve(builtin: Any, value: Any) -> Any:
    """``value`` with its variables replaced, or ``None`` when that fails (an undefined
    variable: Robot fails the keyword itself, with a better message)."""
    if not isinstance(value, str):
        return value
    try:
        return builtin.replace_variables(value)
    except Exception:
        return None


def keyword_arguments(library: Any) -> dict[str, list[str]]:
    """Of a DynamicCore library's keywords, those that take a secret, with the names of
    their arguments: the listener learns from them before Robot logs the arguments."""

    def names(keyword: str) -> list[str]:
        return [
            str(a[0] if isinstance(a, tuple) else a).split("=")[0]
            for a in library.get_keyword_arguments(keyword)
        ]

    return secret_arguments({name: names(name) for name in library.get_keyword_names()})

"""The fields of a step that runs a real command (docs/emulator.md, "Running real
robots"): validated here, for processes.py's step parser."""

from __future__ import annotations

import os
from typing import Any

from .common import ConfigError, is_number

COMMAND_KEYS = frozenset({"command", "cwd", "env", "parallel", "timeout"})
MAX_PARALLEL = 100


def command_fields(value: dict[str, Any], what: str, base_dir: str | None) -> dict[str, Any]:
    """The Step arguments of a step definition's command fields; `what` names the step in
    messages, `base_dir` is where a relative `cwd` starts (default: the current directory)."""
    return {
        "command": _command(value.get("command"), what),
        "cwd": _cwd(value.get("cwd"), what, base_dir),
        "env": _env(value.get("env", {}), what),
        "parallel": _parallel(value.get("parallel", 1), what),
        "timeout": _timeout(value.get("timeout"), what),
    }


def _command(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(part, str) for part in value)
        or not value[0]
        or any("\0" in part for part in value)
    ):
        raise ConfigError(
            f"{what}: 'command' must be a non-empty list of strings: the program and its "
            "arguments (no shell)."
        )
    return tuple(value)


def _cwd(value: Any, what: str, base_dir: str | None) -> str | None:
    if value is None:
        return None if base_dir is None else os.path.abspath(base_dir)
    if not isinstance(value, str) or not value or "\0" in value:
        raise ConfigError(f"{what}: 'cwd' must be a non-empty string.")
    folder = os.path.abspath(os.path.join(base_dir or os.getcwd(), value))
    if not os.path.isdir(folder):  # refused now rather than failing every step run
        raise ConfigError(f"{what}: 'cwd' must be an existing folder: {folder}.")
    return folder


def _env(value: Any, what: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str)
        and k
        and "=" not in k
        and "\0" not in k
        and isinstance(v, str)
        and "\0" not in v
        for k, v in value.items()
    ):
        raise ConfigError(
            f"{what}: 'env' must be an object of environment variable names and string values."
        )
    return tuple(sorted(value.items()))


def _parallel(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PARALLEL:
        raise ConfigError(f"{what}: 'parallel' must be an integer from 1 to {MAX_PARALLEL}.")
    return value


def _timeout(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if not is_number(value) or value <= 0:
        raise ConfigError(f"{what}: 'timeout' must be a number of seconds > 0, or null.")
    return float(value)

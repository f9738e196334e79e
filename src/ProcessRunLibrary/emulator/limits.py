"""What one request may cost the emulator: the body size, the upload size, the time to send
headers. Plain Python (the command line's --help reads the defaults without aiohttp)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .common import ConfigError, is_number

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may cost the emulator (docs/emulator.md, "Limits")."""

    # A request body (JSON): past it, 413. aiohttp's client_max_size.
    max_body_size: int = 16 * MIB
    # One uploaded work item file, spooled to disk while it arrives: past it, 413.
    max_upload_size: int = 100 * MIB
    # Seconds a connection may take to send a request's headers, or stay idle between
    # requests, before it is closed: aiohttp's keep-alive timeout, which aiohttp versions
    # with aio-libs/aiohttp#13681 (3.14.5 is one) start when a connection opens.
    header_timeout: float = 15.0

    def replace(self, given: Any, source: str) -> Limits:
        """These limits with those `given` (a JSON object, e.g. the configuration file's
        `limits`); `source` names where they come from in an error."""
        if not isinstance(given, dict) or set(given) - set(LIMIT_RULES):
            raise ConfigError(f"{source} must be an object with {', '.join(LIMIT_RULES)}.")
        values: dict[str, Any] = {}
        for name, value in given.items():
            whole, least = LIMIT_RULES[name]
            if not is_number(value) or value < least or (whole and value != int(value)):
                kind = "a whole number of bytes" if whole else "a number of seconds"
                raise ConfigError(f"'{name}' in {source} must be {kind} >= {least}.")
            values[name] = int(value) if whole else float(value)
        return dataclasses.replace(self, **values)


# Whether each limit is a whole number, and its least value.
LIMIT_RULES = {
    "max_body_size": (True, 1),
    "max_upload_size": (True, 0),
    "header_timeout": (False, 0.1),
}

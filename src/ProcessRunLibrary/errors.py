"""Errors the library raises.

Robot Framework shows only the message of an exception whose class sets
``ROBOT_SUPPRESS_NAME``, so users read plain sentences, never Python class names.
This module imports nothing from Robot Framework: the client uses it too.
"""

from __future__ import annotations


class ProcessRunLibraryError(Exception):
    """Base of every error the library raises on purpose."""

    ROBOT_SUPPRESS_NAME = True


class InvalidArgument(ProcessRunLibraryError, ValueError):
    """An argument is wrong; raised before any request is sent."""


class ConfigurationError(ProcessRunLibraryError):
    """A setting the keyword needs (URL, workspace, key) is missing or wrong."""


class ControlRoomError(ProcessRunLibraryError):
    """A request failed: Control Room answered with an error or did not answer."""

    def __init__(
        self,
        method: str,
        path: str,
        reason: str,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(f"{method} {path} failed: {reason}")


class ProcessRunNotStarted(ProcessRunLibraryError):
    """Control Room answered ``{"started": false}``."""


class ProcessRunFailed(ProcessRunLibraryError):
    """A waited-for process run ended ``unresolved``."""


class ProcessRunTimeout(ProcessRunLibraryError):
    """A wait ran out of time."""


class StateMismatch(ProcessRunLibraryError):
    """``Process Run State Should Be`` found another state."""

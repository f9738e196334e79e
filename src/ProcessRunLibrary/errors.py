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


# Statuses of an overloaded or restarting server: requests that may be repeated are
# retried on them, and waits outlive them.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


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
        permanent: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.detail = detail
        self.permanent = permanent  # asking again cannot help, e.g. a rejected certificate
        super().__init__(f"{method} {path} failed: {reason}")

    @property
    def is_transient(self) -> bool:
        """No answer, or an answer that Control Room may not give a moment later."""
        if self.permanent:
            return False
        return self.status is None or self.status in RETRY_STATUSES or self.status == 500


class ProcessNotFound(ProcessRunLibraryError):
    """``Get Process Id`` found no process, or several, with the name."""


class ProcessRunNotStarted(ProcessRunLibraryError):
    """Control Room answered ``{"started": false}``."""


class ProcessRunFailed(ProcessRunLibraryError):
    """A waited-for process run ended ``unresolved``."""


class ProcessRunTimeout(ProcessRunLibraryError):
    """A wait ran out of time."""


class StateMismatch(ProcessRunLibraryError):
    """``Process Run State Should Be`` found another state."""


class DownloadFailed(ProcessRunLibraryError):
    """A file could not be downloaded from its (presigned) download URL."""

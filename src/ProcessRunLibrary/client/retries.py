"""When to try a request again: :class:`RetryPolicy`, modelled on urllib3's ``Retry``.

Each method answers one question, deciding by the type of the error (``isinstance``
over the error and what it wraps), never by its text. The loop that sleeps is
:meth:`Transport._send`, the one loop that every request, download and upload goes
through, with one budget (``max_retries``).
"""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    LocationParseError,
    NewConnectionError,
)
from urllib3.util.retry import Retry

from ..errors import RETRY_STATUSES
from .deadline import BrokenBody, TooLarge

__all__ = ["BrokenBody", "Call", "RetryPolicy"]

RETRY_AFTER_MAX = 60.0
BACKOFF_FACTOR, BACKOFF_JITTER, BACKOFF_MAX = 0.5, 0.25, 30.0

# Failures that happen before a request is sent: the server cannot have acted on it.
NOT_SENT: tuple[type[BaseException], ...] = (
    NewConnectionError,  # NameResolutionError is one
    ConnectTimeoutError,
    requests.ConnectTimeout,
    ConnectionRefusedError,
    socket.gaierror,
    ssl.SSLCertVerificationError,  # ssl.CertificateError is the same class
    InvalidHeader,
    LocationParseError,
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)


def causes(error: BaseException | None) -> list[BaseException]:
    """The error and everything it wraps: requests and urllib3 nest the real cause
    in ``args``, ``reason`` or ``__cause__``."""
    found: list[BaseException] = []
    todo = [error]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or any(current is f for f in found):
            continue
        found.append(current)
        todo += [getattr(current, "reason", None), current.__cause__, current.__context__]
        todo += [a for a in current.args if isinstance(a, BaseException)]
    return found


def any_of(error: BaseException | None, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:  # fmt: skip
    return any(isinstance(cause, kinds) for cause in causes(error))


def certificate_rejected(error: BaseException) -> bool:
    return any_of(error, ssl.SSLCertVerificationError)


def may_have_arrived(error: BaseException) -> bool:
    """Whether the server may have got the request (urllib3 ``Retry._is_read_error``)."""
    return isinstance(error, TooLarge) or not any_of(error, NOT_SENT)


def backoff(retry: int) -> float:
    """0.5 s, 1 s, 2 s, ... before retry 1, 2, 3, ..., plus up to 0.25 s, at most 30 s."""
    pause = BACKOFF_FACTOR * 2 ** (retry - 1)
    return float(min(BACKOFF_MAX, pause + random.random() * BACKOFF_JITTER))


def retry_after(value: str | None) -> float | None:
    """Seconds that ``Retry-After`` asks for (seconds or an HTTP date), at most
    ``RETRY_AFTER_MAX``: a robot does not sleep for hours because a server asks."""
    if not value:
        return None
    try:
        asked = Retry(0).parse_retry_after(value)
    except InvalidHeader:  # a bad header is no header
        return None
    return min(max(asked, 0.0), RETRY_AFTER_MAX)


@dataclass(frozen=True)
class RetryPolicy:
    """The retries of one request: ``total`` of them at most; ``repeatable``: whether
    doing it twice does no harm (a read, a stop, a presigned upload of the same object;
    not a start); ``time_left``: seconds left of the wait around it (``None``: no wait)."""

    total: int
    repeatable: bool
    time_left: Callable[[], float | None]

    def is_exhausted(self, made: int) -> bool:
        return made >= self.total

    def is_retryable_error(self, error: BaseException) -> bool:
        """A failure before sending is always safe to repeat; one that may have reached
        the server only when the request is repeatable. A body too large or a rejected
        certificate will be the same next time."""
        if isinstance(error, TooLarge) or certificate_rejected(error):
            return False
        return self.repeatable or not may_have_arrived(error)

    def is_retryable_status(self, status: int) -> bool:
        """429 refused the request, so even a start may be repeated; 502, 503 and 504 may
        come from a proxy after the server acted, so only a repeatable request."""
        return status == 429 or (self.repeatable and status in RETRY_STATUSES)

    def fits(self, pause: float) -> bool:
        """Whether a retry after ``pause`` still has time within the wait."""
        left = self.time_left()
        return left is None or pause < left

    def pause_after_error(self, error: BaseException, made: int) -> float | None:
        """Seconds to pause before retry ``made + 1``, or ``None``: do not retry."""
        if self.is_exhausted(made) or not self.is_retryable_error(error):
            return None
        pause = backoff(made + 1)
        return pause if self.fits(pause) else None

    def pause_after_answer(self, response: requests.Response, made: int) -> float | None:
        """Like :meth:`pause_after_error`, for an answer; Retry-After is honoured, and a
        Retry-After beyond the wait's time is noted on the response for its message."""
        if self.is_exhausted(made) or not self.is_retryable_status(response.status_code):
            return None
        asked = retry_after(response.headers.get("Retry-After"))
        if asked is None:
            pause = backoff(made + 1)
            return pause if self.fits(pause) else None
        left = self.time_left()
        if left is not None and asked > left:
            response.retry_after_refused = asked  # type: ignore[attr-defined]
            return None
        return asked


@dataclass
class Call:
    """One request as the retry loop sees it: what to send and how its failures read."""

    session: requests.Session
    method: str
    url: str
    shown: str
    kwargs: dict[str, Any]
    timeout: float | None
    repeatable: bool
    external: bool = False  # a presigned URL: another host, no credentials
    starts_run: bool = False
    quiet: bool = False
    stream: bool = False
    until: float | None = None  # with stream: the end of the whole download
    limit: int | None = None  # the most bytes the body may have (None: no limit)
    # Reads a streamed 200 answer's body; a BrokenBody it raises is retried.
    read: Callable[[requests.Response], None] | None = None
    # The error to raise when the loop gives up, from the reason; None: ControlRoomError.
    fail: Callable[[str], Exception] | None = None
    # Logs a retry: (retries made, why); None: "Retrying GET ... (retry 1 of 3)."
    on_retry: Callable[[int, str], None] | None = None
    made: int = field(default=0)

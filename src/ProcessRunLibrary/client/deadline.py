"""Sending with a deadline: one attempt of a request, bounded from connect to the last byte.

urllib3's ``Timeout`` bounds each socket read, so a server that drips one byte a second
would stretch a request for ever. Here one watchdog thread ends the connection of an
attempt whose time is up: whatever read or write blocks on its socket returns at once.

The watchdog keeps the deadlines in a heap and sleeps until the earliest is due; arming
an attempt wakes it only when the new deadline comes before the one it sleeps towards,
so a request does not cost a thread switch. An attempt that ended in time is dropped
lazily, when its deadline comes up.

An upload renews its deadline while it makes progress (:func:`body_sent`): every
``PROGRESS_BYTES`` sent give it ``seconds`` more, and the last byte gives the
answer ``seconds``; a stalled or dripping upload still ends. A streamed body (a
download) is bounded the same way as it is read (:func:`_bound_by_progress`).
"""

from __future__ import annotations

import heapq
import itertools
import math
import socket
import threading
import time
from contextlib import suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# A transfer moving less in a request_timeout has stalled: an upload, a streamed download.
PROGRESS_BYTES = 64 * 1024
_SWEEP = 1.0  # ended attempts due this soon are dropped in one wake-up


class BrokenBody(Exception):
    """A body that broke off after its answer began (a download cut in the middle):
    asking again may cure it. Its text says what happened."""


class StalledBody(BrokenBody, requests.ReadTimeout):
    """A streamed body that came in slower than ``PROGRESS_BYTES`` in its time."""


class TooLarge(Exception):
    """A body beyond the limit; ``args[0]`` is the status of its answer."""


class Expired(requests.ReadTimeout):
    """The attempt's time ran out (the watchdog ended the connection)."""


class Stalled(Expired):
    """An upload sent less than ``PROGRESS_BYTES`` within its time."""


class Attempt:
    """The time one attempt may take, and the connection and socket it uses."""

    __slots__ = ("connection", "done", "ends", "expired", "hard_end", "seconds", "sending",
                 "sent", "sock", "window_sent")  # fmt: skip

    def __init__(self, seconds: float, hard_end: float | None = None) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.hard_end = math.inf if hard_end is None else hard_end  # a renewal never passes it
        self.connection: HTTPConnection | None = None
        self.sock: socket.socket | None = None
        self.expired = self.done = self.sending = False
        self.sent = self.window_sent = 0

    def progress(self, size: int) -> None:
        """``size`` more bytes of the body were handed to the socket (0: the last)."""
        self.sending = size > 0
        self.sent += size
        if not size or self.sent - self.window_sent >= PROGRESS_BYTES:
            self.window_sent = self.sent
            self.ends = min(time.monotonic() + self.seconds, self.hard_end)

    def expire(self) -> None:
        self.expired = True
        connection = self.connection
        # The connection may have moved on to another request: leave that one alone.
        if getattr(connection, "attempt", None) is not self:
            return
        # http.client lets go of the socket of an answer that closes the connection
        # (HTTP/1.0, "Connection: close") while the body is read: keep our own hold.
        for sock in {
            id(s): s for s in (getattr(connection, "sock", None), self.sock) if s
        }.values():
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """One daemon thread that expires attempts whose time is up."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Attempt]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._sleeps_until = math.inf

    def arm(self, attempt: Attempt) -> None:
        with self._wake:
            heapq.heappush(self._heap, (attempt.ends, next(self._order), attempt))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="ProcessRunLibrary watchdog", daemon=True
                )
                self._thread.start()
            elif attempt.ends < self._sleeps_until:
                self._wake.notify()

    def disarm(self, attempt: Attempt) -> None:
        with self._wake:
            attempt.done = True
            attempt.connection = attempt.sock = None

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap:
                    ends, _, attempt = heap[0]
                    if attempt.done and ends <= now + _SWEEP:
                        heapq.heappop(heap)
                    elif ends > now:
                        break
                    else:
                        heapq.heappop(heap)
                        if attempt.ends > now:  # renewed by an upload's progress
                            heapq.heappush(heap, (attempt.ends, next(self._order), attempt))
                        else:
                            attempt.expire()
                self._sleeps_until = heap[0][0] if heap else math.inf
                self._wake.wait(None if not heap else max(self._sleeps_until - now, 0.001))


WATCHDOG = Watchdog()
_current = threading.local()  # the attempt under way in this thread


def body_sent(size: int) -> None:
    """Tell the attempt under way in this thread that ``size`` bytes of its body went
    out (0: the whole body): an upload's deadline follows its progress."""
    attempt = getattr(_current, "attempt", None)
    if attempt is not None:
        attempt.progress(size)


class _Claimed:
    """A connection that belongs to the attempt under way in its thread."""

    attempt: Attempt | None = None

    def _claim(self) -> None:
        attempt = getattr(_current, "attempt", None)
        self.attempt = attempt
        if attempt is not None:
            attempt.connection = self
            if attempt.expired:
                attempt.expire()

    def _hold(self) -> None:
        attempt = self.attempt
        if attempt is not None:
            attempt.sock = getattr(self, "sock", None) or attempt.sock
            if attempt.expired:  # expired while connecting
                attempt.expire()

    def connect(self) -> None:
        self._claim()
        super().connect()  # type: ignore[misc]
        self._hold()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._claim()
        self._hold()
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Claimed, HTTPConnection):
    pass


class _HTTPSConnection(_Claimed, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class BoundedAdapter(HTTPAdapter):
    """requests' adapter with connections the watchdog can end; no retries of its own
    (the transport retries, knowing the deadline)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has pools of its own
            manager.pool_classes_by_scheme = _POOLS
        return manager


def send_once(
    session: requests.Session,
    method: str,
    url: str,
    seconds: float,
    *,
    limit: int | None,
    stream: bool = False,
    until: float | None = None,
    hard_end: float | None = None,
    window: float | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One attempt, bounded by ``seconds`` from connect to the last byte read (with
    ``stream``: to the headers, and then to ``until`` if given). ``limit``: the most
    bytes the body may have (``None``: no limit). ``hard_end``: the monotonic time that
    not even an upload's progress may pass (a wait's time limit). ``window``: the time a
    streamed body has for each ``PROGRESS_BYTES`` (default ``seconds``)."""
    attempt = Attempt(seconds, hard_end)
    WATCHDOG.arm(attempt)
    _current.attempt = attempt
    try:
        response = session.request(
            method, url, timeout=seconds, stream=True, allow_redirects=False, **kwargs
        )
        if stream:
            ends = min(until or math.inf, hard_end or math.inf)
            return _bound_by_progress(response, attempt, window or seconds, ends)
        read_body(response, limit)
        if attempt.expired:  # the body ended because the watchdog closed it
            raise Expired()
        return response
    except requests.RequestException as error:
        if attempt.expired and not isinstance(error, Expired):
            raise (Stalled() if attempt.sending else Expired()) from error
        raise
    finally:
        _current.attempt = None
        WATCHDOG.disarm(attempt)


def _bound_by_progress(
    response: requests.Response, headers: Attempt, seconds: float, hard_end: float
) -> requests.Response:
    """Bound the body that ``response.iter_content`` streams by its progress: every
    ``PROGRESS_BYTES`` read give it ``seconds`` more, never past ``hard_end``. urllib3's
    read timeout alone lets a server that drips a byte a second go on for ever."""
    body = Attempt(seconds, hard_end)
    body.ends = min(body.ends, hard_end)
    body.connection, body.sock = headers.connection, headers.sock
    if body.connection is not None:
        body.connection.attempt = body  # type: ignore[attr-defined]
    WATCHDOG.arm(body)
    read = response.iter_content

    def iter_content(chunk_size: int | None = 1, decode_unicode: bool = False) -> Any:
        try:
            for chunk in read(chunk_size, decode_unicode):
                if chunk:
                    body.progress(len(chunk))
                yield chunk
        except requests.RequestException:
            if not body.expired:
                raise
        finally:
            WATCHDOG.disarm(body)
        if body.expired:  # a body without a length just ends when its socket is shut
            within = f"{seconds:g} second{'' if seconds == 1 else 's'}"
            kib = PROGRESS_BYTES // 1024
            raise StalledBody(f"the download stalled (less than {kib} KiB received in {within})")

    response.iter_content = iter_content  # type: ignore[method-assign]
    return response


def read_body(response: requests.Response, limit: int | None) -> None:
    """Read the body, at most ``limit`` bytes (decoded), into ``response.content``."""
    most = math.inf if limit is None else limit
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > most:
        response.close()
        raise TooLarge(response.status_code)
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > most:
            response.close()
            raise TooLarge(response.status_code)
        chunks.append(chunk)
    # requests has no public way to hand it a body read elsewhere.
    response._content = b"".join(chunks)

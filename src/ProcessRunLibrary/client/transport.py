"""The transport: what every request to Control Room shares.

One :class:`Transport` is one Control Room session: one ``requests.Session`` with
keep-alive, its own settings, retries and timeouts, the rules for which URLs get the
credentials, paging, response checks, masking and logging. The resources
(``processruns.py``, ``processes.py``, ``workitems.py``, ``stepruns.py``) are thin
methods over :meth:`Transport.request`, :meth:`Transport.pages` and
:meth:`Transport.open_url`. It imports nothing from Robot Framework; it logs through
:mod:`logging`, which Robot Framework shows in its log.

The rules, each enforced here and nowhere else:

- Credentials go only to the origin (scheme, host, port) of ``api_url``: a ``next`` URL
  or a redirect elsewhere is not followed. :meth:`open_url` never sends credentials.
- A request's timeout bounds it from connect to the last byte of the body (a watchdog
  ends the connection when the time is up), not each socket read; a time limit
  (:meth:`time_limit`, used by waits) bounds every request, retry and pause inside it.
- Retries: only what is safe to repeat; a start only when Control Room certainly did
  not get it.
- An answer must be what Control Room sends: a JSON object of the expected shape, at
  most ``MAX_RESPONSE_BYTES`` long and ``MAX_DEPTH`` deep; a listing at most
  ``MAX_PAGES`` pages, never visiting a page twice.
"""

from __future__ import annotations

import json as jsonlib
import logging
import random
import socket
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import InsecureRequestWarning
from urllib3.util.retry import Retry

from .. import masking
from ..errors import RETRY_STATUSES, ControlRoomError
from ..types import path_segment
from ..version import VERSION

log = logging.getLogger("ProcessRunLibrary")
masking.mask_third_party_loggers()
MAY_HAVE_STARTED = (
    " The process run may have been started anyway: a start is not repeated after such an "
    "error, so that no run is started twice; List Process Runs shows whether it exists."
)

USER_AGENT = f"ProcessRunLibrary/{VERSION} python-requests/{requests.__version__}"
BODY_LOG_LIMIT = 2000
RETRY_AFTER_MAX = 60.0
BACKOFF_FACTOR, BACKOFF_JITTER, BACKOFF_MAX = 0.5, 0.25, 30.0
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # a page of 500 runs is well under 1 MB
MAX_DEPTH = 64  # Control Room's own JSON nests about 5 deep; payloads a little deeper
MAX_PAGES = 10_000  # a million items at 100 a page
MAX_REDIRECTS = 5
DEFAULT_HOST = "cloud.robocorp.com"
JSON = Any


@dataclass(frozen=True)
class Credentials:
    """How requests authenticate: a workspace API key or a Control Room run token."""

    secret: str
    scheme: str = "RC-WSKEY"  # or "Bearer"

    @property
    def header(self) -> str:
        return f"{self.scheme} {self.secret}"


# --- one attempt's deadline, from connect to the last byte ------------------------------


class _Attempt:
    """The time one attempt may take. When it is up, the watchdog shuts the socket of the
    connection the attempt uses: whatever read or write blocks on it returns at once.
    Socket timeouts alone bound each read, so a server that drips one byte a second
    would stretch a request for ever."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.connection: HTTPConnection | None = None
        self.sock: socket.socket | None = None
        self.expired = False

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


class _Watchdog:
    """One daemon thread that expires attempts whose time is up."""

    def __init__(self) -> None:
        self._due: list[_Attempt] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, attempt: _Attempt) -> None:
        with self._wake:
            self._due.append(attempt)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="ProcessRunLibrary watchdog", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def disarm(self, attempt: _Attempt) -> None:
        with self._wake:
            if attempt in self._due:
                self._due.remove(attempt)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for attempt in [a for a in self._due if a.ends <= now]:
                    self._due.remove(attempt)
                    attempt.expire()
                soonest = min((a.ends for a in self._due), default=None)
                self._wake.wait(None if soonest is None else max(soonest - now, 0.001))


_WATCHDOG = _Watchdog()
_current = threading.local()  # the attempt under way in this thread


class _Claimed:
    """A connection that belongs to the attempt under way in its thread."""

    attempt: _Attempt | None = None

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


class _BoundedAdapter(HTTPAdapter):
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


class _TooLarge(Exception):
    pass


class _Expired(requests.ReadTimeout):
    """The attempt's time ran out (the watchdog ended the connection)."""


# --- origins ------------------------------------------------------------------------------


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, lower case, with the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


class Transport:
    """One Control Room session: a workspace, credentials and connection settings."""

    max_pages = MAX_PAGES
    max_response_bytes = MAX_RESPONSE_BYTES

    def __init__(
        self,
        api_url: str,
        workspace_id: str,
        credentials: Credentials,
        request_timeout: float = 30.0,
        max_retries: int = 3,
        verify: bool | str = True,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.origin = origin(self.api_url)
        self.workspace_id = workspace_id
        self.credentials = credentials
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self.request_count = 0  # requests sent by keywords, retries not counted
        self._limits = threading.local()
        masking.register(credentials.secret)
        self.workspace_url = (
            f"{self.api_url}/workspaces/{path_segment('workspace_id', workspace_id)}"
        )
        self.http = requests.Session()
        self.http.verify = verify
        self.http.headers.update(
            {
                "Authorization": credentials.header,
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )
        self.http.mount("https://", _BoundedAdapter())
        self.http.mount("http://", _BoundedAdapter())
        # Upload and download URLs get no Authorization header: a separate session.
        self.external = requests.Session()
        self.external.headers.update({"User-Agent": USER_AGENT})
        self.external.mount("https://", _BoundedAdapter())
        self.external.mount("http://", _BoundedAdapter())

    def close(self) -> None:
        self.http.close()
        self.external.close()

    # --- time limits -----------------------------------------------------------------

    @contextmanager
    def time_limit(self, seconds: float | None) -> Iterator[None]:
        """Every request made inside (in this thread), with its retries and pauses,
        ends within ``seconds`` from now; a request with no time left is not sent.
        ``None`` lifts an outer limit inside (a stop after a wait's timeout)."""
        outer = getattr(self._limits, "until", None)
        if seconds is None:
            self._limits.until = None
        else:
            until = time.monotonic() + seconds
            self._limits.until = until if outer is None else min(until, outer)
        try:
            yield
        finally:
            self._limits.until = outer

    def _time_left(self) -> float | None:
        until = getattr(self._limits, "until", None)
        return None if until is None else until - time.monotonic()

    def _budget(self, timeout: float | None) -> float:
        budget = timeout or self.request_timeout
        left = self._time_left()
        return budget if left is None else min(budget, left)

    # --- plumbing --------------------------------------------------------------------

    def list(self, path: str, params: Mapping[str, Any], limit: int | None) -> list[JSON]:
        """Every item of a listing, all pages followed, at most ``limit``."""
        return list(take(self.pages(path, params, limit), limit))

    def open_url(
        self,
        method: str,
        url: str,
        *,
        timeout: float | None = None,
        total: float | None = None,
        repeatable: bool | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request to a URL outside the API (a presigned upload or download URL)
        without the session's credentials; the caller reads and closes the response.

        ``timeout`` (default ``request_timeout``) bounds the request from connect to
        the last byte of the body. With ``stream=True`` it bounds the request up to
        the response headers, and then each read of the body; ``total``, when given,
        bounds the whole download, body included. Connection errors before sending
        are retried, and for GET (or with ``repeatable=True``: a presigned upload
        stores the same object again) also timeouts and 429/502/503/504; redirects
        are followed (nothing secret goes with them).

        Such a URL is a credential of its own: it is registered as a secret, so it is
        masked wherever it would be logged."""
        masking.register(url)
        stream = bool(kwargs.pop("stream", False))
        kwargs.setdefault("verify", self.http.verify)
        shown = masking.mask(url)
        if repeatable is None:
            repeatable = method.upper() in ("GET", "HEAD")
        until = None if total is None else time.monotonic() + total
        made = 0
        while True:
            seconds = self._budget(timeout)
            if until is not None:
                seconds = min(seconds, until - time.monotonic())
            try:
                response = self._attempt(
                    self.external, method, url, seconds, stream=stream, until=until,
                    limit=None, **kwargs,
                )  # fmt: skip
            except (requests.RequestException, _TooLarge) as error:
                pause = self._retry_pause(method, error, None, made, repeatable)
                if pause is None:
                    raise ControlRoomError(
                        method, shown, self._reason(error, seconds, made)
                    ) from None
                made += 1
                self._log_retry(method, shown, made, error=error)
            else:
                pause = self._retry_pause(method, None, response, made, repeatable)
                if pause is None:
                    return response
                response.close()
                made += 1
                self._log_retry(method, shown, made, response=response)
            time.sleep(pause)

    def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        limit: int | None,
        quiet: bool = False,
        timeout: float | None = None,
    ) -> Iterator[JSON]:
        """Yield items page by page, following each ``next`` URL verbatim.

        A ``next`` URL on another origin than ``api_url``, one already read, or more
        than ``max_pages`` pages fail the listing."""
        query = {k: v for k, v in params.items() if v is not None}
        if limit is not None:
            query["limit"] = limit
        url = self.workspace_url + path
        seen = {self._full_url(url, query)}
        page = self.request("GET", path, params=query, quiet=quiet, timeout=timeout, expect=PAGE)
        shown = self._shown_path(url, query)
        for count in range(1, self.max_pages + 1):
            items = page["data"]
            if not all(isinstance(item, dict) for item in items):
                kind = next(_kind(i) for i in items if not isinstance(i, dict))
                raise ControlRoomError(
                    "GET",
                    shown,
                    f"200 OK with an unexpected answer: expected 'data' to be a list of "
                    f"objects, got a list holding {kind}.",
                    status=200,
                )
            yield from items
            next_url = page.get("next")
            if not next_url or page.get("has_more") is False:
                return
            next_url = urljoin(url, next_url)
            self._check_origin("GET", shown, next_url, "its next page is")
            if next_url in seen:
                raise ControlRoomError(
                    "GET",
                    shown,
                    f"its next page is one already read ({self._shown_path(next_url, None)}): "
                    "the listing would never end.",
                    permanent=True,
                )
            if count == self.max_pages:
                break
            seen.add(next_url)
            url, shown = next_url, self._shown_path(next_url, None)
            page = self.request("GET", next_url, quiet=quiet, timeout=timeout, expect=PAGE)
        raise ControlRoomError(
            "GET",
            shown,
            f"the listing has more than {self.max_pages:,} pages, more than any listing of "
            "Control Room needs: it is not followed further.",
            permanent=True,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: JSON | None = None,
        timeout: float | None = None,
        authorize: bool = True,
        quiet: bool = False,
        starts_run: bool = False,
        expect: Mapping[str, str] | None = None,
    ) -> JSON:
        """Send one request (``path`` relative to the workspace, or a full URL on
        ``api_url``'s origin) and return its JSON body, a dictionary (``{}`` for an
        empty body when ``expect`` is not given).

        ``quiet`` logs the request at DEBUG instead of INFO. ``starts_run``: a
        failure that may have come after Control Room got the request says that the
        run may exist (such a request is never repeated). ``expect`` maps the fields
        the answer must have to their kind (``"string"``, ``"list"``, ``"boolean"``,
        ``"object"``, ``"number"``; ``"... or null"`` may also be missing or null)."""
        url = path if "://" in path else self.workspace_url + path
        shown = self._shown_path(url, params)
        self._check_origin(method, shown, url, "the request goes")
        headers = None if authorize else {"Authorization": None}
        kwargs: dict[str, Any] = {
            "params": params,
            # Given per request: requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE
            # override the session's verify (False or a CA bundle path) otherwise.
            "verify": self.http.verify,
            "headers": headers,
        }
        if json is not None:
            kwargs["json"] = json
        # Masking a body costs milliseconds: only when DEBUG is logged.
        if json is not None and log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s body %s", method, shown, _truncate(json))
        # Every POST under /processes/ starts a run: it must never run twice. A POST under
        # /work-items/ creates an item or runs a batch: twice would feed a process twice.
        once = starts_run or (method == "POST" and url.startswith((self.workspace_url + "/processes/", self.workspace_url + "/work-items")))  # fmt: skip
        self.request_count += 1
        response = self._send(method, url, shown, kwargs, timeout, starts_run, once, quiet)
        if response.content and log.isEnabledFor(logging.DEBUG):
            if b'"url"' in response.content:  # presigned URLs are secrets before they are logged
                masking.register_urls(_json_or_none(response.content))
            excerpt = response.content[: BODY_LOG_LIMIT * 4 + 8192]
            text = excerpt.decode(response.encoding or "utf-8", errors="replace")
            log.debug("Response body: %s", _truncate(text, len(response.content)))
        if response.status_code >= 400:
            raise _error_from(method, shown, response, starts_run)
        return self._answer(method, shown, response, starts_run, expect)

    # --- one request: attempts, retries, redirects ------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        shown: str,
        kwargs: dict[str, Any],
        timeout: float | None,
        starts_run: bool,
        once: bool,
        quiet: bool,
    ) -> requests.Response:
        made = hops = 0
        while True:
            seconds = self._budget(timeout)
            if seconds <= 0:
                raise ControlRoomError(
                    method, shown, "not sent: the time of the wait had run out" + _retries_text(made) + "."
                )  # fmt: skip
            started = time.monotonic()
            try:
                with warnings.catch_warnings():
                    if self.http.verify is False:  # warned once when the session was made
                        warnings.simplefilter("ignore", InsecureRequestWarning)
                    response = self._attempt(self.http, method, url, seconds, **kwargs)
            except (requests.RequestException, _TooLarge) as error:
                pause = self._retry_pause(method, error, None, made, repeatable=not once)
                if pause is None:
                    reason = self._reason(error, seconds, made)
                    if starts_run and _may_have_arrived(error):
                        reason += MAY_HAVE_STARTED
                    permanent = _certificate_rejected(error) or isinstance(error, _TooLarge)
                    raise ControlRoomError(method, shown, reason, permanent=permanent) from None
                made += 1
                self._log_retry(method, shown, made, error=error)
                time.sleep(pause)
                continue
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s -> %d in %.2f s",
                method,
                shown,
                response.status_code,
                time.monotonic() - started,
            )
            if 300 <= response.status_code < 400:
                location = response.headers.get("Location")
                target = urljoin(url, location) if location else None
                hops += 1
                if (
                    target is not None
                    and origin(target) == self.origin
                    and method in ("GET", "DELETE")
                    and hops <= MAX_REDIRECTS
                ):
                    url = target
                    kwargs = {**kwargs, "params": None}
                    continue
                raise self._redirect_error(method, shown, response, target, starts_run)
            pause = self._retry_pause(method, None, response, made, repeatable=not once)
            if pause is None:
                response.retries_made = made  # type: ignore[attr-defined]
                return response
            made += 1
            self._log_retry(method, shown, made, response=response)
            time.sleep(pause)

    def _attempt(
        self,
        session: requests.Session,
        method: str,
        url: str,
        seconds: float,
        *,
        stream: bool = False,
        until: float | None = None,
        limit: int | None = -1,
        **kwargs: Any,
    ) -> requests.Response:
        """One attempt, bounded by ``seconds`` from connect to the last byte read (with
        ``stream``: to the headers, and then to ``until`` if given). ``limit``: the
        most bytes the body may have (-1: ``max_response_bytes``, ``None``: no limit)."""
        attempt = _Attempt(seconds)
        _WATCHDOG.arm(attempt)
        _current.attempt = attempt
        try:
            response = session.request(
                method, url, timeout=seconds, stream=True, allow_redirects=False, **kwargs
            )
            if stream:
                if until is not None:  # the rest of the download gets what is left
                    rest = _Attempt(max(until - time.monotonic(), 0.0))
                    rest.connection, rest.sock = attempt.connection, attempt.sock
                    if rest.connection is not None:
                        rest.connection.attempt = rest  # type: ignore[attr-defined]
                    _WATCHDOG.arm(rest)
                return response
            _read_body(response, self.max_response_bytes if limit == -1 else limit)
            if attempt.expired:  # the body ended because the watchdog closed it
                raise _Expired()
            return response
        except requests.RequestException as error:
            if attempt.expired and not isinstance(error, _Expired):
                raise _Expired() from error
            raise
        finally:
            _current.attempt = None
            _WATCHDOG.disarm(attempt)

    def _retry_pause(
        self,
        method: str,
        error: BaseException | None,
        response: requests.Response | None,
        made: int,
        repeatable: bool,
    ) -> float | None:
        """How long to pause before repeating a request, or ``None`` not to repeat it.

        Connection errors raised before sending are always safe to retry. A request
        that may have reached the server (a read error, a timeout, a 5xx from a proxy)
        is repeated only when doing it twice does no harm, which is not so for starting
        a run: a start is repeated only after a 429, which refused it."""
        if made >= self.max_retries:
            return None
        if error is not None:
            if isinstance(error, _TooLarge) or _certificate_rejected(error):
                return None
            if repeatable or not _may_have_arrived(error):
                return self._fit(_backoff(made + 1))
            return None
        assert response is not None
        status = response.status_code
        if not (status == 429 or (repeatable and status in RETRY_STATUSES)):
            return None
        asked = _retry_after(response.headers.get("Retry-After"))
        if asked is None:
            return self._fit(_backoff(made + 1))
        left = self._time_left()
        if left is not None and asked > left:
            response.retry_after_refused = asked  # type: ignore[attr-defined]
            return None
        return asked

    def _fit(self, pause: float) -> float | None:
        """The pause, if a retry after it still has time within the time limit."""
        left = self._time_left()
        if left is not None and pause >= left:
            return None
        return pause

    def _log_retry(
        self,
        method: str,
        shown: str,
        made: int,
        error: BaseException | None = None,
        response: requests.Response | None = None,
    ) -> None:
        why = (
            f"HTTP {response.status_code}"
            if response is not None
            else _describe(error).removesuffix(".")
        )
        log.info("Retrying %s %s after %s (retry %d of %d).", method, shown, why, made, self.max_retries)  # fmt: skip

    def _reason(self, error: BaseException, seconds: float, made: int) -> str:
        if isinstance(error, _TooLarge):
            return (
                f"{_status(error.args[0])} with a body larger than "
                f"{_size(self.max_response_bytes)}, the most an answer may have."
            )
        reason = _describe(error, seconds).removesuffix(".")
        if not _may_have_arrived(error) and urlsplit(self.api_url).hostname == DEFAULT_HOST:
            reason += (
                f" (the host {DEFAULT_HOST}, the default when no api_url is given or "
                "set in RC_API_URL_V1)"
            )
        return reason + _retries_text(made) + "."

    def _redirect_error(
        self,
        method: str,
        shown: str,
        response: requests.Response,
        target: str | None,
        starts_run: bool,
    ) -> ControlRoomError:
        """A redirect is followed only to Control Room's origin, for GET and DELETE."""
        if target is None:
            why = "a redirect without a Location"
        elif origin(target) != self.origin:
            why = (
                f"a redirect to another origin ({origin(target)}) than Control Room's "
                f"({self.origin}), not followed"
            )
        elif method in ("GET", "DELETE"):
            why = f"more than {MAX_REDIRECTS} redirects, not followed further"
        else:
            why = f"a redirect to {self._shown_path(target, None)}, not followed for {method}"
        reason = f"{_status(response.status_code)}: {why}.{MAY_HAVE_STARTED if starts_run else ''}"
        response.close()
        return ControlRoomError(method, shown, masking.mask(reason), status=response.status_code)

    def _check_origin(self, method: str, shown: str, url: str, what: str) -> None:
        there = origin(url)
        if there != self.origin:
            raise ControlRoomError(
                method,
                shown,
                f"{what} on another origin ({there}) than Control Room's ({self.origin}): "
                "nothing is sent there, so that the credentials stay with Control Room.",
                permanent=True,
            )

    def _answer(
        self,
        method: str,
        shown: str,
        response: requests.Response,
        starts_run: bool,
        expect: Mapping[str, str] | None,
    ) -> JSON:
        status = _status(response.status_code)
        may = MAY_HAVE_STARTED if starts_run else ""
        if not response.content:
            if expect is None:
                return {}
            raise ControlRoomError(
                method, shown, f"{status} with an empty body, expected a JSON object.{may}",
                status=response.status_code,
            )  # fmt: skip
        try:
            data = parse_json(response.content)
        except ValueError as error:
            raise ControlRoomError(
                method, shown, f"{status} with a body that is {error}.{may}",
                status=response.status_code,
            ) from None  # fmt: skip
        problem = shape_problem(data, expect or {})
        if problem:
            raise ControlRoomError(
                method, shown, f"{status} with an unexpected answer: {problem}.{may}",
                status=response.status_code,
            )  # fmt: skip
        if b'"url"' in response.content:  # presigned download or upload URLs
            masking.register_urls(data)
        return data

    def _full_url(self, url: str, params: Mapping[str, Any] | None) -> str:
        return requests.Request("GET", url, params=params).prepare().url or url

    def _shown_path(self, url: str, params: Mapping[str, Any] | None) -> str:
        """The URL as logs and errors show it: relative to the API URL, secrets masked."""
        if params:
            query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
            url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        if url.startswith(self.api_url):
            url = url[len(self.api_url) :]
        return masking.mask(url)


PAGE = {"data": "list", "next": "string or null", "has_more": "boolean or null"}
_KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "list": (list,),
    "boolean": (bool,),
    "object": (dict,),
    "number": (int, float),
}


def parse_json(content: bytes) -> JSON:
    """Strict JSON (no NaN or Infinity) nested at most ``MAX_DEPTH`` deep; a
    ``ValueError`` says what is wrong."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON ({constant} is not a JSON value)")

    try:
        data = jsonlib.loads(content, parse_constant=refuse)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise ValueError("not JSON (not UTF-8)") from None
    except ValueError as error:
        if str(error).startswith("not JSON"):
            raise
        raise ValueError("not JSON") from None
    todo = [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()  # fmt: skip
        todo.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return data


def shape_problem(data: JSON, expect: Mapping[str, str]) -> str | None:
    """What is wrong with an answer, as 'expected ..., got ...', or ``None``."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {_kind(data)}"
    for name, kind in expect.items():
        optional = kind.endswith(" or null")
        types = _KINDS[kind.removesuffix(" or null")]
        value = data.get(name)
        if value is None and optional:
            continue
        if name not in data:
            return f"expected '{name}' ({kind}), got no '{name}'"
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            article = "an" if kind[0] in "aeiou" else "a"
            return f"expected '{name}' to be {article} {kind}, got {_kind(value)}"
    return None


def _kind(value: JSON) -> str:
    """A JSON value as a message shows it: its kind, and a short excerpt."""
    if value is None:
        return "null"
    kind = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), "a number"
    )
    text = jsonlib.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{kind} ({masking.mask(text)})"


def _json_or_none(content: bytes) -> JSON:
    try:
        return parse_json(content)
    except ValueError:
        return None


def take(items: Iterator[JSON], limit: int | None) -> Iterator[JSON]:
    for count, item in enumerate(items, start=1):
        yield item
        if limit is not None and count >= limit:
            return


def _read_body(response: requests.Response, limit: int | None) -> None:
    """Read the body, at most ``limit`` bytes (decoded), into ``response.content``."""
    limit = limit if limit is not None else float("inf")  # type: ignore[assignment]
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:  # type: ignore[operator]
        response.close()
        raise _TooLarge(response.status_code)
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:  # type: ignore[operator]
            response.close()
            raise _TooLarge(response.status_code)
        chunks.append(chunk)
    # requests has no public way to hand it a body read elsewhere.
    response._content = b"".join(chunks)


def _backoff(retry: int) -> float:
    """0.5 s, 1 s, 2 s, ... before retry 1, 2, 3, ..., plus up to 0.25 s, at most 30 s."""
    backoff = BACKOFF_FACTOR * 2 ** (retry - 1)
    return float(min(BACKOFF_MAX, backoff + random.random() * BACKOFF_JITTER))


def _retry_after(value: str | None) -> float | None:
    """Seconds that ``Retry-After`` asks for (seconds or an HTTP date), at most
    ``RETRY_AFTER_MAX``: a robot does not sleep for hours because a server asks."""
    if not value:
        return None
    try:
        asked = Retry(0).parse_retry_after(value)
    except Exception:  # urllib3 raises InvalidHeader; a bad header is no header
        return None
    return min(max(asked, 0.0), RETRY_AFTER_MAX)


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _error_from(
    method: str, shown: str, response: requests.Response, starts_run: bool = False
) -> ControlRoomError:
    code = detail = None
    try:
        error = parse_json(response.content).get("error") or {}
        code, detail = error.get("code"), error.get("message")
    except (ValueError, AttributeError):
        pass
    code = code if isinstance(code, str) else None
    detail = detail if isinstance(detail, str) else None
    reason = _status(response.status_code)
    if code or detail:
        reason += ": " + ": ".join(part[:500] for part in (code, detail) if part)
    retried = _retries_text(getattr(response, "retries_made", 0))
    refused = getattr(response, "retry_after_refused", None)
    if refused:
        retried += f" (Retry-After asked for {refused:g} seconds, more than the wait had left)"
    if starts_run and response.status_code >= 500:
        retried += MAY_HAVE_STARTED
    return ControlRoomError(
        method,
        shown,
        masking.mask(reason + retried),
        status=response.status_code,
        code=code,
        detail=detail,
    )


def _describe(error: BaseException | None, timeout: float | None = None) -> str:
    """A short sentence for a connection-level failure, without exception class names."""
    chain = _causes(error)
    names = {type(e).__name__ for e in chain}
    texts = " ".join(str(e) for e in chain)
    if names & {"SSLError", "SSLCertVerificationError", "CertificateError"}:
        mismatch = any(
            m in texts for m in ("Hostname mismatch", "IP address mismatch", "doesn't match")
        )
        if mismatch:
            return "the TLS certificate is not valid for this host name (it names another host)."
        if "certificate verify failed" in texts or "SSLCertVerificationError" in names:
            return "TLS certificate verification failed (give verify a CA bundle path)."
    if names & {
        "ReadTimeout",
        "ReadTimeoutError",
        "ConnectTimeout",
        "ConnectTimeoutError",
        "TimeoutError",
        "_Expired",
    }:
        timeout = round(timeout, 1) if timeout else timeout
        within = f" within {timeout:g} second{'' if timeout == 1 else 's'}" if timeout else ""
        return f"no answer{within}."
    if "ConnectionRefusedError" in names or "Connection refused" in texts:
        return "connection refused."
    if names & {"NameResolutionError", "gaierror"}:
        return "the host name could not be resolved."
    if names & {
        "RemoteDisconnected",
        "ProtocolError",
        "ConnectionResetError",
        "IncompleteRead",
        "ChunkedEncodingError",
        "SSLError",
    }:
        return "the connection was closed before an answer came."
    return masking.mask(str(chain[-1]) if chain else "unknown error") or "unknown error"


def _retries_text(made: int) -> str:
    return f" (after {made} {'retry' if made == 1 else 'retries'})" if made else ""


# Failures that happen before a request is sent: the server cannot have acted on it.
_NOT_SENT = frozenset(
    {
        "NewConnectionError",
        "NameResolutionError",
        "ConnectTimeoutError",
        "ConnectTimeout",
        "ConnectionRefusedError",
        "gaierror",
        "SSLCertVerificationError",
        "CertificateError",
        "InvalidHeader",
        "InvalidURL",
        "InvalidSchema",
        "MissingSchema",
    }
)


def _may_have_arrived(error: BaseException) -> bool:
    if isinstance(error, _TooLarge):
        return True
    return not ({type(e).__name__ for e in _causes(error)} & _NOT_SENT)


def _certificate_rejected(error: BaseException) -> bool:
    names = {type(e).__name__ for e in _causes(error)}
    return bool(names & {"SSLCertVerificationError", "CertificateError"})


def _causes(error: BaseException | None) -> list[BaseException]:
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


def _truncate(body: object, size: int | None = None) -> str:
    """At most BODY_LOG_LIMIT characters, masked. Only a prefix is masked, long enough
    that a secret cut at its end is still whole where the excerpt ends. ``size``: the
    length of the whole body, when ``body`` is an excerpt of it."""
    text = body if isinstance(body, str) else repr(body)
    if len(text) <= BODY_LOG_LIMIT and size is None:
        return masking.mask(text)
    excerpt = masking.mask(text[: BODY_LOG_LIMIT + 8192])
    if len(excerpt) <= BODY_LOG_LIMIT and (size is None or size <= len(text)):
        return excerpt
    what = f"{len(text)} characters" if size is None else f"{size:,} bytes"
    return f"{excerpt[:BODY_LOG_LIMIT]}... ({what})"

"""The transport: what every request to Control Room shares.

One :class:`Transport` is one Control Room session: two ``requests`` sessions (the API,
with the credentials; and the presigned upload and download URLs, with none), its
settings, paging, and :meth:`Transport._send`, the one loop that every request,
download and upload goes through. The resources (``processruns.py``, ``processes.py``,
``workitems.py``, ``stepruns.py``) are thin methods over :meth:`Transport.request`,
:meth:`Transport.pages` and :meth:`Transport.open_url`. It imports nothing from Robot
Framework; it logs through :mod:`logging`, which Robot Framework shows in its log.

Its rooms, each found by name:

- :mod:`.deadline`: one attempt, bounded from connect to the last byte (a watchdog ends
  the connection when the time is up), not each socket read; an upload by its progress.
- :mod:`.retries`: when to try again (only what is safe to repeat; a start only when
  Control Room certainly did not get it), the backoff and ``Retry-After``.
- :mod:`.answers`: what came back: strict JSON of the expected shape, at most
  ``MAX_RESPONSE_BYTES`` long; the error and failure messages.
- :mod:`.origins`: credentials go only to the origin (scheme, host, port) of
  ``api_url``; which redirects are followed.
- :mod:`ProcessRunLibrary.masking`: secrets masked in every log line and message.

A time limit (:meth:`Transport.time_limit`, used by waits) bounds every request, retry
and pause inside it. Both sessions always have an ``auth`` (:mod:`.auth`): never netrc.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import InsecureRequestWarning

from .. import masking
from ..checks import path_segment
from ..errors import ControlRoomError
from ..version import VERSION
from . import paging
from .answers import (
    JSON,
    MAY_HAVE_STARTED,
    PAGE,
    check_answer,
    describe,
    error_from,
    json_or_none,
    logged_body,
    parse_json,
    retries_text,
    shape_problem,
    size_text,
    status_text,
)
from .auth import NO_AUTH, Credentials, HeaderAuth
from .deadline import BoundedAdapter, Expired, TooLarge, send_once
from .environment import EnvironmentSession
from .origins import (
    REDIRECTS,
    RedirectsLeftAlone,
    api_redirect_refusal,
    check_origin,
    download_redirect_refusal,
    origin,
    redirect_url,
    shown_path,
)
from .retries import BrokenBody, Call, RetryPolicy, certificate_rejected, may_have_arrived

__all__ = ["JSON", "MAY_HAVE_STARTED", "PAGE", "Credentials", "Transport", "origin",
           "parse_json", "shape_problem"]  # fmt: skip

log = logging.getLogger("ProcessRunLibrary")
masking.mask_third_party_loggers()

USER_AGENT = f"ProcessRunLibrary/{VERSION} python-requests/{requests.__version__}"
BODY_LOG_LIMIT = masking.EXCERPT_LIMIT
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # a page of 500 runs is well under 1 MB
MAX_PAGES = 10_000  # a million items at 100 a page
MAX_LISTING_BYTES = 200 * 1024 * 1024  # the pages of one listing, added up
DEFAULT_HOST = "cloud.robocorp.com"


class _Session(EnvironmentSession, RedirectsLeftAlone):
    """requests' Session that reads the proxy variables once per change of the environment
    and leaves every redirect to the rules of origins.py."""


class Transport:
    """One Control Room session: a workspace, credentials and connection settings."""

    max_pages = MAX_PAGES
    max_response_bytes = MAX_RESPONSE_BYTES
    max_listing_bytes = MAX_LISTING_BYTES

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
        self.http = self._session(HeaderAuth(credentials.header), verify)
        self.http.headers["Accept"] = "application/json"
        # Upload and download URLs get no credentials: a separate session.
        self.external = self._session(NO_AUTH, verify)

    @staticmethod
    def _session(auth: AuthBase, verify: bool | str) -> requests.Session:
        session = _Session()
        session.auth, session.verify = auth, verify  # an auth set: requests never reads ~/.netrc
        session.headers["User-Agent"] = USER_AGENT
        session.mount("https://", BoundedAdapter())
        session.mount("http://", BoundedAdapter())
        return session

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

    # --- listings ----------------------------------------------------------------------

    def list(self, path: str, params: Mapping[str, Any], limit: int | None) -> list[JSON]:
        """Every item of a listing, all pages followed, at most ``limit``."""
        return list(islice(self.pages(path, params, limit), limit))

    def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        limit: int | None,
        quiet: bool = False,
        timeout: float | None = None,
    ) -> Iterator[JSON]:
        """Yield items page by page, following each ``next`` URL verbatim (see
        :func:`.paging.pages`)."""
        return paging.pages(self, path, params, limit, quiet, timeout)

    def page(  # a page of a listing, its size, and its URL as messages show it
        self, url: str, params: Mapping[str, Any] | None, quiet: bool, timeout: float | None
    ) -> tuple[JSON, int, str]:
        response, shown = self._exchange("GET", url, params, None, timeout, True, quiet, False)
        return check_answer("GET", shown, response, False, PAGE), len(response.content), shown

    # --- one API request -------------------------------------------------------------

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
        response, shown = self._exchange(
            method, url, params, json, timeout, authorize, quiet, starts_run
        )
        return check_answer(method, shown, response, starts_run, expect)

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: JSON | None,
        timeout: float | None,
        authorize: bool,
        quiet: bool,
        starts_run: bool,
    ) -> tuple[requests.Response, str]:
        """Send an API request; its answer (read, not an error status) and its path as
        messages show it."""
        shown = shown_path(self.api_url, url, params)
        if not url.startswith(self.workspace_url + "/"):  # the workspace's own: its origin
            check_origin(self.origin, method, shown, url, "the request goes")
        kwargs: dict[str, Any] = {
            "params": params,
            # Given per request: requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE
            # override the session's verify (False or a CA bundle path) otherwise.
            "verify": self.http.verify,
        }
        if not authorize:
            kwargs["auth"] = NO_AUTH
        if json is not None:
            kwargs["json"] = json
            # Masking a body costs milliseconds: only when DEBUG is logged.
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s body %s", method, shown, masking.excerpt(json))
        # Every POST under /processes/ starts a run: it must never run twice. A POST under
        # /work-items/ creates an item or runs a batch: twice would feed a process twice.
        once = starts_run or (method == "POST" and url.startswith((self.workspace_url + "/processes/", self.workspace_url + "/work-items")))  # fmt: skip
        self.request_count += 1
        call = Call(self.http, method, url, shown, kwargs, timeout, not once,
                        starts_run=starts_run, quiet=quiet, limit=self.max_response_bytes)  # fmt: skip
        response = self._send(call)
        if response.content and log.isEnabledFor(logging.DEBUG):
            if b'"url"' in response.content:  # presigned URLs are secrets before they are logged
                masking.register_urls(json_or_none(response.content))
            log.debug("Response body: %s", logged_body(response, BODY_LOG_LIMIT))
        if response.status_code >= 400:
            raise error_from(method, shown, response, starts_run)
        return response, shown

    # --- presigned URLs ----------------------------------------------------------------

    def open_url(
        self,
        method: str,
        url: str,
        *,
        timeout: float | None = None,
        total: float | None = None,
        repeatable: bool | None = None,
        shown: str | None = None,
        read: Callable[[requests.Response], None] | None = None,
        fail: Callable[[str], Exception] | None = None,
        on_retry: Callable[[int, str], None] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request to a URL outside the API (a presigned upload or download URL)
        without the session's credentials; the caller reads and closes the response.

        ``timeout`` (default ``request_timeout``) bounds the request from connect to
        the last byte of the body; an upload's body is bounded by its progress instead
        (see :mod:`.deadline`). With ``stream=True`` it bounds the request up to the
        response headers, and then the body by its progress (64 KiB within each
        ``timeout``); ``total``, when given, bounds the whole download, body included. Connection errors before sending
        are retried, and for GET (or with ``repeatable=True``: a presigned upload
        stores the same object again) also timeouts and 429/502/503/504, all within
        ``max_retries``. A GET follows redirects (:mod:`.origins`); ``read`` reads the
        body of its 200 answer inside the same retries (a :class:`BrokenBody` it raises
        starts over). ``shown`` names the URL in messages; ``fail`` makes the error
        raised from a reason; ``on_retry`` logs a retry.

        Such a URL is a credential of its own: it is registered as a secret, so it is
        masked wherever it would be logged."""
        masking.register(url)
        kwargs.setdefault("verify", self.http.verify)
        if repeatable is None:
            repeatable = method.upper() in ("GET", "HEAD")
        stream = bool(kwargs.pop("stream", False)) or read is not None
        until = None if total is None else time.monotonic() + total
        call = Call(self.external, method, url, shown or masking.mask(url), kwargs,
                        timeout, repeatable, external=True, stream=stream, until=until,
                        read=read, fail=fail, on_retry=on_retry)  # fmt: skip
        return self._send(call)

    # --- the one retry loop --------------------------------------------------------------

    def _send(self, call: Call) -> requests.Response:
        """Send ``call`` until it has an answer to return, retrying what
        :class:`RetryPolicy` allows and following the redirects :mod:`.origins` allows."""
        policy = RetryPolicy(self.max_retries, call.repeatable, self._time_left)
        url, kwargs, hops, chain_end = call.url, call.kwargs, 0, None
        quiet_tls = self.http.verify is False  # warned once when the session was made
        while True:
            seconds = budget = self._budget(call.timeout)
            hard_end = getattr(self._limits, "until", None)
            if call.until is not None:
                seconds = min(seconds, call.until - time.monotonic())
                hard_end = min(hard_end or call.until, call.until)
            if seconds <= 0:
                reason = "not sent: the time of the wait had run out" + retries_text(call.made)
                raise self._failure(call, reason + ".")
            started = time.monotonic()
            try:
                if chain_end is not None:  # the redirects of one attempt share its time
                    seconds = min(seconds, chain_end - started)
                    if seconds <= 0:
                        raise Expired()
                with warnings.catch_warnings() if quiet_tls else nullcontext():
                    if quiet_tls:
                        warnings.simplefilter("ignore", InsecureRequestWarning)
                    response = send_once(
                        call.session, call.method, url, seconds, limit=call.limit,
                        stream=call.stream, until=call.until,
                        hard_end=hard_end, window=budget, **kwargs,
                    )  # fmt: skip
                if not call.external:
                    log.log(logging.DEBUG if call.quiet else logging.INFO,
                            "%s %s -> %d in %.2f s", call.method, call.shown,
                            response.status_code, time.monotonic() - started)  # fmt: skip
                target = self._redirect_target(call, url, response, hops)
                if target is not None:
                    url, hops, chain_end = target, hops + 1, chain_end or started + seconds
                    kwargs = {**kwargs, "params": None}
                    continue
                if call.read is not None and response.status_code == 200:
                    with response:  # read, or given up: either way done with
                        call.read(response)
            except (requests.RequestException, TooLarge, BrokenBody) as error:
                pause, chain_end = policy.pause_after_error(error, call.made), None
                if pause is None:
                    raise self._gave_up(call, error, budget) from None
                self._retrying(call, describe(error).removesuffix("."), pause)
                continue
            pause = policy.pause_after_answer(response, call.made)
            if pause is None:
                response.retries_made = call.made  # type: ignore[attr-defined]
                return response
            response.close()
            chain_end = None
            self._retrying(call, f"HTTP {response.status_code}", pause)

    def _retrying(self, call: Call, why: str, pause: float) -> None:
        call.made += 1
        if call.on_retry is not None:
            call.on_retry(call.made, why)
        else:
            log.info("Retrying %s %s after %s (retry %d of %d).", call.method, call.shown, why, call.made, self.max_retries)  # fmt: skip
        time.sleep(pause)

    def _redirect_target(
        self, call: Call, url: str, response: requests.Response, hops: int
    ) -> str | None:
        """Where to follow a redirect, ``None`` for an answer that is not one to follow;
        a redirect that may not be followed fails."""
        status = response.status_code
        location = response.headers.get("Location") if 300 <= status < 400 else None
        target = redirect_url(url, location)
        if call.external:
            if status not in REDIRECTS or call.method.upper() not in ("GET", "HEAD"):
                return None
            why = download_redirect_refusal(url, target, hops + 1)
            if why is None and target:
                masking.register(target, *target.split("?", 1)[1:])
        elif 300 <= status < 400:
            shown = shown_path(self.api_url, target, None) if target else ""
            why = api_redirect_refusal(self.origin, call.method, target, shown, hops + 1)
        else:
            return None
        response.close()
        if why is None:
            return target
        may = MAY_HAVE_STARTED if call.starts_run else ""
        raise self._failure(
            call, masking.mask(f"{status_text(status)}: {why}.{may}"), status=status
        )

    def _gave_up(self, call: Call, error: BaseException, seconds: float) -> Exception:
        if isinstance(error, TooLarge):
            reason = (
                f"{status_text(error.args[0])} with a body larger than "
                f"{size_text(self.max_response_bytes)}, the most an answer may have."
            )
        else:
            reason = describe(error, seconds).removesuffix(".")
            if (
                not call.external
                and not may_have_arrived(error)
                and urlsplit(self.api_url).hostname == DEFAULT_HOST
            ):
                reason += (
                    f" (the host {DEFAULT_HOST}, the default when no api_url is given or "
                    "set in RC_API_URL_V1)"
                )
            reason += retries_text(call.made) + "."
        if call.starts_run and may_have_arrived(error):
            reason += MAY_HAVE_STARTED
        permanent = isinstance(error, TooLarge) or certificate_rejected(error)
        return self._failure(call, reason, permanent=permanent)

    @staticmethod
    def _failure(
        call: Call, reason: str, permanent: bool = False, status: int | None = None
    ) -> Exception:
        if call.fail is not None:
            return call.fail(reason)
        return ControlRoomError(call.method, call.shown, reason, status=status, permanent=permanent)  # fmt: skip

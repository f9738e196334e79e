"""The transport: what every request to Control Room shares.

One :class:`Transport` is one Control Room session: one ``requests.Session`` with
keep-alive, its own settings, retries and timeouts, the rules for which URLs get the
credentials, paging, response checks, masking and logging. The resources
(``processruns.py``, ``processes.py``, ``workitems.py``, ``stepruns.py``) are thin
methods over :meth:`Transport.request`, :meth:`Transport.pages` and
:meth:`Transport.open_url`. It imports nothing from Robot Framework; it logs through
:mod:`logging`, which Robot Framework shows in its log.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning, MaxRetryError
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
JSON = Any


@dataclass(frozen=True)
class Credentials:
    """How requests authenticate: a workspace API key or a Control Room run token."""

    secret: str
    scheme: str = "RC-WSKEY"  # or "Bearer"

    @property
    def header(self) -> str:
        return f"{self.scheme} {self.secret}"


class _LoggingRetry(Retry):
    """urllib3's Retry that says in the log why and when it repeats a request."""

    def increment(self, method=None, url=None, response=None, error=None, *args, **kwargs):
        if error is not None and _certificate_rejected(error):
            # Asking again cannot help; fail at once with what is wrong.
            pool = kwargs.get("_pool")
            raise MaxRetryError(pool, url or "", error) from error  # type: ignore[arg-type]
        try:
            new = super().increment(method, url, response, error, *args, **kwargs)
        except MaxRetryError as exhausted:
            exhausted.retries_made = len(self.history)  # type: ignore[attr-defined]
            raise
        why = (
            f"HTTP {response.status}"
            if response is not None
            else _describe(error).removesuffix(".")
        )
        made = len(new.history)
        left = new.total if isinstance(new.total, int) else 0
        log.info(
            "Retrying %s %s after %s (retry %d of %d).",
            method,
            masking.mask(url or ""),
            why,
            made,
            made + left,
        )
        return new

    def get_backoff_time(self) -> float:
        # urllib3 repeats the first failure at once. Back off from the first retry on,
        # as documented: 0.5 s, 1 s, 2 s, ... plus up to backoff_jitter, at most backoff_max.
        if not self.history:
            return 0.0
        backoff = self.backoff_factor * 2 ** (len(self.history) - 1)
        return float(min(self.backoff_max, backoff + random.random() * self.backoff_jitter))

    def parse_retry_after(self, retry_after: str) -> float:
        # urllib3 would sleep for whatever the server asks (up to six hours); a robot
        # waits at most RETRY_AFTER_MAX seconds and then asks again.
        return min(super().parse_retry_after(retry_after), RETRY_AFTER_MAX)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # Only the statuses in status_forcelist. urllib3 also repeats any 413 or 503 that
        # has a Retry-After header, and a start answered so may have started a run.
        return status_code in (self.status_forcelist or ()) and super().is_retry(
            method, status_code, has_retry_after
        )


class _OurRetriesAtDebug(logging.Filter):
    """urllib3 warns about every connection error it retries, which Robot Framework shows
    as a test warning; the library's own retries are logged at INFO already."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.levelno == logging.WARNING and args and isinstance(args[0], _LoggingRetry):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _OurRetriesAtDebug) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(_OurRetriesAtDebug())


def _retry_policy(max_retries: int, *, starts_runs: bool) -> Retry:
    """Retries for one kind of request.

    Connection errors raised before sending are always safe to retry. A request that
    may have reached the server (a read error, a timeout, a 5xx from a proxy) is
    repeated only when doing it twice does no harm, which is not so for starting a run:
    a start is repeated only after a 429, which refused it.
    """
    return _LoggingRetry(
        total=max_retries,
        connect=max_retries,
        read=0 if starts_runs else max_retries,
        other=0 if starts_runs else None,
        status=max_retries,
        status_forcelist={429} if starts_runs else RETRY_STATUSES,
        allowed_methods=frozenset({"POST"} if starts_runs else {"GET", "DELETE", "POST"}),
        backoff_factor=0.5,
        backoff_jitter=0.25,
        backoff_max=30,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


class Transport:
    """One Control Room session: a workspace, credentials and connection settings."""

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
        self.workspace_id = workspace_id
        self.credentials = credentials
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self.request_count = 0  # requests sent by keywords, retries not counted
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
        self.http.mount(
            self.api_url,
            HTTPAdapter(max_retries=_retry_policy(max_retries, starts_runs=False)),
        )
        # Upload and download URLs get no Authorization header: a separate session.
        self.external = requests.Session()
        self.external.headers.update({"User-Agent": USER_AGENT})
        self.external.mount(
            "https://", HTTPAdapter(max_retries=_retry_policy(max_retries, starts_runs=False))
        )
        self.external.mount(
            "http://", HTTPAdapter(max_retries=_retry_policy(max_retries, starts_runs=False))
        )
        # Every POST under /processes/ starts a run; it must never run twice.
        self.http.mount(
            f"{self.workspace_url}/processes/",
            HTTPAdapter(max_retries=_retry_policy(max_retries, starts_runs=True)),
        )

    def close(self) -> None:
        self.http.close()
        self.external.close()

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
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request to a URL outside the API (a presigned upload or download URL)
        without the session's credentials; the caller reads and closes the response.

        Such a URL is a credential of its own: it is registered as a secret, so it is
        masked wherever it would be logged."""
        masking.register(url)
        return self.external.request(
            method,
            url,
            timeout=timeout or self.request_timeout,
            verify=self.http.verify,
            **kwargs,
        )

    def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        limit: int | None,
        quiet: bool = False,
        timeout: float | None = None,
    ) -> Iterator[JSON]:
        """Yield items page by page, following each ``next`` URL verbatim."""
        query = {k: v for k, v in params.items() if v is not None}
        if limit is not None:
            query["limit"] = limit
        page = self.request("GET", path, params=query, quiet=quiet, timeout=timeout)
        while True:
            yield from page.get("data") or []
            next_url = page.get("next")
            if not next_url or page.get("has_more") is False:
                return
            page = self.request("GET", next_url, quiet=quiet, timeout=timeout)

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
    ) -> JSON:
        """Send one request (``path`` relative to the workspace, or a full URL) and
        return its JSON body. ``quiet`` logs the request at DEBUG instead of INFO.
        ``starts_run``: a failure that may have come after Control Room got the
        request says that the run may exist (such a request is never repeated)."""
        url = path if "://" in path else self.workspace_url + path
        shown = self._shown_path(url, params)
        headers = None if authorize else {"Authorization": None}
        kwargs: dict[str, Any] = {
            "params": params,
            "timeout": timeout or self.request_timeout,
            # Given per request: requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE
            # override the session's verify (False or a CA bundle path) otherwise.
            "verify": self.http.verify,
        }
        if json is not None:
            kwargs["json"] = json
        # Masking a body costs milliseconds: only when DEBUG is logged.
        if json is not None and log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s body %s", method, shown, _truncate(json))
        started = time.monotonic()
        self.request_count += 1
        try:
            with warnings.catch_warnings():
                if self.http.verify is False:  # warned once when the session was made
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self.http.request(method, url, headers=headers, **kwargs)
        except requests.RequestException as error:
            reason = (
                _describe(error, kwargs["timeout"]).removesuffix(".") + _retries_made(error) + "."
            )
            if starts_run and _may_have_arrived(error):
                reason += MAY_HAVE_STARTED
            permanent = _certificate_rejected(error)
            raise ControlRoomError(method, shown, reason, permanent=permanent) from None
        elapsed = time.monotonic() - started
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s -> %d in %.2f s",
            method,
            shown,
            response.status_code,
            elapsed,
        )
        if b'"url"' in response.content:  # presigned URLs: secrets before anything logs them
            _register_urls(response)
        if response.content and log.isEnabledFor(logging.DEBUG):
            log.debug("Response body: %s", _truncate(response.text))
        if response.status_code >= 400:
            raise _error_from(method, shown, response, starts_run)
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise ControlRoomError(
                method,
                shown,
                f"{_status(response.status_code)} with a body that is not JSON."
                + (MAY_HAVE_STARTED if starts_run else ""),
                status=response.status_code,
            ) from None
        return data

    def _shown_path(self, url: str, params: Mapping[str, Any] | None) -> str:
        """The URL as logs and errors show it: relative to the API URL, secrets masked."""
        if params:
            query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
            url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        if url.startswith(self.api_url):
            url = url[len(self.api_url) :]
        return masking.mask(url)


def _register_urls(response: requests.Response) -> None:
    with contextlib.suppress(ValueError):  # a body that is not JSON fails later, clearly
        masking.register_urls(response.json())


def take(items: Iterator[JSON], limit: int | None) -> Iterator[JSON]:
    for count, item in enumerate(items, start=1):
        yield item
        if limit is not None and count >= limit:
            return


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _error_from(
    method: str, shown: str, response: requests.Response, starts_run: bool = False
) -> ControlRoomError:
    code = detail = None
    try:
        error = response.json().get("error") or {}
        code, detail = error.get("code"), error.get("message")
    except (ValueError, AttributeError):
        pass
    reason = _status(response.status_code)
    if code or detail:
        reason += ": " + ": ".join(str(part) for part in (code, detail) if part)
    history = getattr(getattr(response.raw, "retries", None), "history", None) or ()
    retried = _retries_text(len(history))
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
    if names & {"SSLError", "SSLCertVerificationError"}:
        return "TLS certificate verification failed (give verify a CA bundle path)."
    if names & {
        "ReadTimeout",
        "ReadTimeoutError",
        "ConnectTimeout",
        "ConnectTimeoutError",
        "TimeoutError",
    }:
        within = f" within {timeout:g} seconds" if timeout else ""
        return f"no answer{within}."
    if "ConnectionRefusedError" in names or "Connection refused" in texts:
        return "connection refused."
    if names & {"NameResolutionError", "gaierror"}:
        return "the host name could not be resolved."
    if names & {"RemoteDisconnected", "ProtocolError", "ConnectionResetError", "IncompleteRead"}:
        return "the connection was closed before an answer came."
    if "MaxRetryError" in names and "too many" in texts and "error responses" in texts:
        return "too many error responses."
    return masking.mask(str(chain[-1]) if chain else "unknown error") or "unknown error"


def _retries_made(error: BaseException) -> str:
    """' (after 2 retries)' when urllib3 gave up after retrying, else ''."""
    for cause in _causes(error):
        made = getattr(cause, "retries_made", None)
        if isinstance(made, int):
            return _retries_text(made)
    return ""


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


def _truncate(body: object) -> str:
    text = body if isinstance(body, str) else repr(body)
    text = masking.mask(text)
    return (
        text
        if len(text) <= BODY_LOG_LIMIT
        else f"{text[:BODY_LOG_LIMIT]}... ({len(text)} characters)"
    )

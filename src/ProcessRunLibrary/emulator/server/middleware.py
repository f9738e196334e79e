"""The one path every request takes: which surface its path is on (the API, the file URLs,
the admin API), its credential, the request log, fault rules, and the catch-all that gives
every error a JSON body.

A surface is a path prefix with its rules (SURFACES, the first prefix that matches wins).
A new family of paths (e.g. a worker-side API with its own tokens) is one more `Surface`
with its own `authorize`; nothing else here changes."""

from __future__ import annotations

import asyncio
import functools
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate

from aiohttp import web

from .. import signing
from ..common import ApiError, ConfigError, bad_request, forbidden, not_found
from ..faults import FaultRule
from ..workitems import DOWNLOAD_PATH, UPLOAD_PATH
from .api.worker import PREFIXES as WORKER_PREFIXES
from .api.worker import worker_credential
from .context import Context, Served, authorize, check_workspace
from .loglimit import stderr_lines
from .web import (
    ADMIN_PREFIX,
    API_PREFIX,
    CONTEXT,
    LOG_ENTRY,
    SERVED,
    UPLOAD,
    Handler,
    error_response,
)

HANG_SECONDS = 3600.0
FAULT_HEADER = "X-Emulator-Fault"
FAULT_CODES = {
    429: "too_many_requests",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"
# Codes that do not follow the reason phrase, which differs between Python versions
# (3.13 renamed 413 "Request Entity Too Large" to "Content Too Large").
HTTP_ERROR_CODES = {413: "request_entity_too_large"}

# Who the request is from: the workspace its credential opens, None where the path needs
# no credential (a signed URL); raises ApiError (403) when the credential is refused.
Authorizer = Callable[[web.Request], Served | None]


def api_credential(request: web.Request) -> Served:
    ctx = request.app[CONTEXT]
    if getattr(request.match_info.handler, "key_in_query", False):
        token = request.query.get("token")
        if not token:
            raise forbidden("Missing 'token' query parameter: give the API key.")
        served = next((s for s in ctx.served.values() if s.accepts_credential(token)), None)
        if served is None:
            raise forbidden("The token is not valid.")
    else:
        served = authorize(ctx, request.headers.get("Authorization"))
    check_workspace(served, request.match_info["ws"])
    return served


def admin_credential(request: web.Request) -> Served:
    return authorize(request.app[CONTEXT], request.headers.get("Authorization"))


def signed_url(request: web.Request) -> None:
    """A download URL: no Authorization header, but a signature that has not expired."""
    reason = signing.check(request.path, request.query)
    if reason is not None:
        raise forbidden(reason)


def no_credential(request: web.Request) -> None:
    """The URL is checked by its handler (an upload's signed form fields) or is public."""


@dataclass(frozen=True)
class Surface:
    prefix: str
    authorize: Authorizer
    # In the request log (by default, with the path relative to the prefix).
    logged: bool = False
    log_full_path: bool = False
    # The JSON body is logged, once the credential is accepted (never before: a body
    # without a valid credential is not even read).
    log_body: bool = False
    faults: bool = False
    # An unknown path or method goes through the log and faults like a known one (the
    # API); else it is answered 404 at once (the admin API).
    unknown_logged: bool = False
    emulated_date: bool = False

    def covers(self, path: str) -> bool:
        """The prefix itself and what is below it; with a trailing '/', only below it."""
        if self.prefix.endswith("/"):
            return path.startswith(self.prefix)
        return path.startswith(self.prefix) and (
            len(path) == len(self.prefix) or path[len(self.prefix)] == "/"
        )

    def log_path(self, path: str) -> str:
        return path if self.log_full_path else path[len(self.prefix.rstrip("/")) :] or "/"


API = Surface(
    API_PREFIX,
    api_credential,
    logged=True,
    log_body=True,
    faults=True,
    unknown_logged=True,
    emulated_date=True,
)
# Work item file URLs, as S3 presigned ones: their faults are matched on the full path.
FILES = (
    Surface(UPLOAD_PATH.split("{")[0], no_credential, True, True, faults=True),
    Surface(DOWNLOAD_PATH.split("{")[0], no_credential, True, True, faults=True),
)
SIGNED = (
    Surface(f"{ADMIN_PREFIX}/files/", signed_url, logged=True, log_full_path=True),
    # Below it; /_emulator/workspaces itself is the admin API's.
    Surface(f"{ADMIN_PREFIX}/workspaces/", signed_url, logged=True, log_full_path=True),
)
HEALTH = Surface(f"{ADMIN_PREFIX}/health", no_credential)
ADMIN = Surface(ADMIN_PREFIX, admin_credential)
# The worker-side API of step runs' commands (json-v1, process-v1): a step run's token.
WORKER = tuple(
    Surface(prefix, worker_credential, True, True, log_body=True, faults=True)
    for prefix in WORKER_PREFIXES
)
SURFACES: list[Surface] = [API, *FILES, *SIGNED, HEALTH, ADMIN, *WORKER]


def surface_of(path: str) -> Surface | None:
    if path.startswith(API_PREFIX + "/"):  # most requests, at once
        return API
    return next((s for s in SURFACES if s.covers(path)), None)


@functools.lru_cache(maxsize=4)
def _http_date(second: int) -> str:
    return formatdate(second, usegmt=True)


def http_date(timestamp: float) -> str:
    """An HTTP Date; formatted once a second, not for every answer."""
    return _http_date(int(timestamp))


@web.middleware
async def serve(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        surface = surface_of(request.path)
        if surface is None:  # aiohttp's own 404 or 405, in JSON below
            return await handler(request)
        if request.match_info.http_exception is not None and not surface.unknown_logged:
            return error_response(
                not_found(f"No such admin operation: {request.method} {request.path}.")
            )
        if surface.logged:
            return await logged(request, handler, surface)
        return await answer(request, handler, surface, credential(request, surface))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return unexpected_error_response(request, error)
    except Exception as error:
        return unexpected_error_response(request, error)


def credential(request: web.Request, surface: Surface) -> Served | ApiError | None:
    """The request's Served, or why its credential is refused (answered after the fault
    rules, which apply to any request)."""
    if request.match_info.http_exception is not None:
        return None
    try:
        return surface.authorize(request)
    except ApiError as error:
        return error


async def logged(request: web.Request, handler: Handler, surface: Surface) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    who = credential(request, surface)
    body, too_large = b"", None
    if surface.log_body and request.body_exists and isinstance(who, Served):
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # over client_max_size
            too_large = ApiError(
                413,
                "request_entity_too_large",
                f"The request body is larger than the emulator's limit of "
                f"{ctx.limits.max_body_size} bytes (--max-body-size).",
            )
    path = surface.log_path(request.path)
    entry = ctx.log.record(request.method, path, request.query, request.headers, body)
    request[LOG_ENTRY] = entry  # a streamed answer's status is known before it ends
    started = time.perf_counter()
    try:
        if too_large is not None:
            response: web.StreamResponse = error_response(too_large)
        elif (rule := fault_for(ctx, surface, request.method, path)) is None:
            response = await answer(request, handler, surface, who)
        else:
            entry["fault"] = rule.id
            response = await apply_fault(
                request, rule, lambda: answer(request, handler, surface, who)
            )
            response.headers[FAULT_HEADER] = rule.id
    except Exception as error:
        response = unexpected_error_response(request, error)
    finally:
        entry["duration"] = round(time.perf_counter() - started, 6)
        if surface.log_full_path and UPLOAD in request:  # files.py's upload
            entry["body"] = request[UPLOAD]
    entry["status"] = response.status
    if surface.emulated_date and not response.prepared:
        # The answer's Date is on the clock of its data: the emulated one.
        response.headers["Date"] = http_date(ctx.workspace.clock.now())
    return response


def fault_for(ctx: Context, surface: Surface, method: str, path: str) -> FaultRule | None:
    """The fault rule that fires for this request, if any (most runs have no rules)."""
    if not surface.faults or not ctx.faults.rules:
        return None
    return ctx.faults.pick(method, path)


async def answer(
    request: web.Request, handler: Handler, surface: Surface, who: Served | ApiError | None
) -> web.StreamResponse:
    """The real answer to a request, errors included."""
    try:
        refused = request.match_info.http_exception
        if request.method == "OPTIONS" and isinstance(refused, web.HTTPMethodNotAllowed):
            # A browser's preflight carries no credentials.
            return preflight(set(refused.allowed_methods))
        if refused is not None:
            raise not_found(f"No such API operation: {request.method} {request.path}.")
        if isinstance(who, ApiError):
            raise who
        if who is not None:
            request[SERVED] = who
        response = await handler(request)
        if response.status == 200 and getattr(request.match_info.handler, "cors", False):
            response.headers.update(CORS)
        return response
    except ConfigError as error:
        return error_response(bad_request(str(error)))
    except ApiError as error:
        return error_response(error)
    except Exception as error:
        return unexpected_error_response(request, error)


def preflight(allowed: set[str]) -> web.Response:
    """The answer to a CORS preflight of an API path that serves `allowed` methods."""
    return web.Response(
        status=204,
        headers={
            **CORS,
            "Access-Control-Allow-Methods": ", ".join(sorted({*allowed, "OPTIONS"})),
            "Access-Control-Allow-Headers": PREFLIGHT_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )


def unexpected_error_response(request: web.Request, error: Exception) -> web.Response:
    """The catch-all: no answer leaves the emulator without an error body.

    aiohttp's own HTTP errors (e.g. 413 for a body over the limit) keep their status; any
    other exception is a bug of the emulator: 500 `internal_server_error`, and the
    traceback on standard error (the path, never the query: it may hold a token)."""
    if isinstance(error, web.HTTPException) and error.status >= 400:
        phrase = error.reason.lower().replace(" ", "_").replace("-", "_")
        code = HTTP_ERROR_CODES.get(error.status, phrase)
        return error_response(ApiError(error.status, code, f"{error.status} {error.reason}."))
    stderr_lines.write(
        f"internal error answering {request.method} {request.path}",
        "".join(traceback.format_exception(error)),
    )
    return error_response(
        ApiError(
            500,
            "internal_server_error",
            f"Internal error of the emulator ({type(error).__name__}); its standard error "
            "has the traceback.",
        )
    )


# --- faults ---------------------------------------------------------------------------------


async def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError()


def fault_response(rule: FaultRule) -> web.Response:
    assert rule.status is not None
    reason = web.Response(status=rule.status).reason
    error = ApiError(
        rule.status,
        FAULT_CODES[rule.status],
        f"Injected fault {rule.id}: {rule.status} {reason}.",
    )
    response = error_response(error)
    if rule.retry_after is not None:
        response.headers["Retry-After"] = str(int(-(-rule.retry_after // 1)))
    return response


async def apply_fault(
    request: web.Request, rule: FaultRule, real: Callable[[], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """What `rule` does to a request; `real` gives the real answer."""
    if rule.latency:
        await asyncio.sleep(rule.latency)
    if rule.hang:
        await asyncio.sleep(HANG_SECONDS)
        return await drop_connection(request)
    if rule.lost_answer:
        await real()  # done for real, e.g. the run is created
    if rule.drop:
        return await drop_connection(request)
    if rule.status is not None:
        return fault_response(rule)
    return await real()


__all__ = ["FAULT_HEADER", "SURFACES", "Authorizer", "Surface", "serve"]

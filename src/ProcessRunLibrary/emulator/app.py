"""The HTTP side of the emulator: routes of the Control Room API under /api/v1, the fault
and request-log middleware, and (from admin.py) the admin routes under /_emulator/."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ipaddress
import json
import math
import re
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import InitVar, dataclass, field
from email.utils import formatdate
from typing import Any

from aiohttp import web
from yarl import URL

from . import robotfiles
from .callbacks import Callbacks
from .common import MAX_PAGE_SIZE, ApiError, ConfigError, bad_request, not_found, parse_json
from .faults import FaultRule, FaultSet
from .requestlog import RequestLog
from .state import Workspace

API_PREFIX = "/api/v1"
# aiohttp's own limits for the request line and each header (8190 by default), raised so
# that long queries reach the API and get its JSON errors; past them aiohttp answers 400
# with a text body.
MAX_LINE_SIZE = 64 * 1024
HANG_SECONDS = 3600.0
FAULT_HEADER = "X-Emulator-Fault"
FAULT_CODES = {
    429: "too_many_requests",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The seed lists this header on the 200 answers of start, start for integrations, delete
# and list outputs (CORS_HANDLERS, below the handlers). A preflight (OPTIONS) of any API
# path is answered too.
CORS = {"Access-Control-Allow-Origin": "*"}
# A workspace id goes into every API path: no character that a path would need to escape.
WORKSPACE_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
PREFLIGHT_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"


@dataclass
class Served:
    """One workspace the emulator serves, with the credentials that open it: its API key
    and the tokens issued for it."""

    workspace: Workspace
    api_key: str
    tokens: set[str]
    callbacks: Callbacks

    def accepts_token(self, credential: str) -> bool:
        """A token the emulator issued (`--token`, `POST /_emulator/tokens`)."""
        return any(same_secret(credential, t) for t in self.tokens)

    def accepts_credential(self, credential: str) -> bool:
        """The integrations endpoint's `token`: the API key or an issued token."""
        return same_secret(credential, self.api_key) or self.accepts_token(credential)


@dataclass
class Context:
    """What one emulator process holds: the workspaces it serves (the first is the one it
    was started with), and the fault rules and request log, which all of them share."""

    workspace: Workspace
    # The first workspace's credentials: kept in its Served, not here.
    api_key: InitVar[str]
    tokens: InitVar[set[str] | None] = None
    seed: Any = None
    faults: FaultSet = field(init=False)
    log: RequestLog = field(default_factory=RequestLog)
    served: dict[str, Served] = field(init=False)

    def __post_init__(self, api_key: str, tokens: set[str] | None) -> None:
        self.faults = FaultSet(self.seed)
        self.served = {}
        self.add_workspace(self.workspace, api_key, tokens or set())

    @property
    def callbacks(self) -> Callbacks:
        """The first workspace's callback deliveries."""
        return self.served[self.workspace.workspace_id].callbacks

    def add_workspace(self, workspace: Workspace, api_key: str, tokens: set[str]) -> Served:
        """Serve one more workspace. Its id and its credentials must be its own: a key or
        token opens one workspace, as in Control Room."""
        workspace_id = workspace.workspace_id
        if not WORKSPACE_ID.fullmatch(workspace_id) or not workspace_id.strip("."):
            raise ConfigError(
                "A workspace id must be 1 to 100 letters, digits, '-', '_' or '.', and not "
                f"only dots, got '{workspace_id[:100]}'."
            )
        if workspace_id in self.served:
            raise ConfigError(f"Workspace '{workspace_id}' is served already.")
        if not credential(api_key):
            raise ConfigError(
                f"The API key of workspace '{workspace_id}' must be {CREDENTIAL_RULE}."
            )
        owner = self.owner_of(api_key)
        if owner is not None:
            raise ConfigError(
                f"Workspace '{workspace_id}' needs an API key of its own: "
                f"workspace '{owner}' has this one."
            )
        served = Served(workspace, api_key, set(), Callbacks(workspace))
        self.served[workspace_id] = served
        for token in tokens:
            self.add_token(served, token)
        return served

    def owner_of(self, credential: str) -> str | None:
        """The workspace that has `credential` as its key or one of its tokens."""
        for served in self.served.values():
            if same_secret(credential, served.api_key) or served.accepts_token(credential):
                return served.workspace.workspace_id
        return None

    def add_token(self, served: Served, token: str) -> None:
        """A token that opens `served` (`Bearer <token>`, the integrations' `token`)."""
        if not credential(token):
            raise ConfigError(f"A token must be {CREDENTIAL_RULE}.")
        owner = self.owner_of(token)
        if owner is not None and not served.accepts_token(token):
            raise ConfigError(
                "A token must be a credential of its own: workspace "
                f"'{owner}' has it as its API key or a token."
            )
        served.tokens.add(token)

    def new_workspace(self, workspace_id: str, api_key: str) -> Served:
        """A workspace like the first: the same clock and settings, and the processes the
        first one started with (of the configuration file, or the demo processes)."""
        first = self.workspace
        workspace = Workspace(
            workspace_id,
            first.initial_processes,
            clock=first.clock,
            stopping_seconds=first.stopping_seconds,
            page_size=first.page_size,
            url_expiry_seconds=first.url_expiry_seconds,
        )
        workspace.allow_commands = first.allow_commands
        return self.add_workspace(workspace, api_key, set())

    def holding(self, has: Callable[[Workspace], bool]) -> Workspace:
        """The workspace for which `has` is true (a download or upload URL names no
        workspace, only its file), else the first (whose lookup then answers 404)."""
        return next((s.workspace for s in self.served.values() if has(s.workspace)), self.workspace)

    def reset(self, reset_processes: bool) -> None:
        for served in self.served.values():
            served.workspace.reset(reset_processes=reset_processes)
            served.callbacks.cancel_all()
        self.faults = FaultSet(self.seed)
        self.log.clear()

    async def close(self) -> None:
        for served in self.served.values():
            await served.callbacks.close()


MAX_CREDENTIAL = 1024
CREDENTIAL_RULE = f"1 to {MAX_CREDENTIAL} printable ASCII characters, with no space at either end"


def credential(value: str) -> bool:
    """Whether `value` can be a key or token: what an Authorization header carries whole
    (HTTP drops spaces at its ends; aiohttp refuses a header over 64 KiB)."""
    return (
        0 < len(value) <= MAX_CREDENTIAL
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
    )


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time. Header values that are not UTF-8 arrive with surrogate
    escapes, which a plain encode() refuses: they are compared byte for byte."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


CONTEXT = web.AppKey("context", Context)
# The request's key for its Served (web.RequestKey from aiohttp 3.12 on; a string before).
SERVED: Any = web.RequestKey("served", Served) if hasattr(web, "RequestKey") else "served"


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        # allow_nan=False: NaN and Infinity are not JSON; better a 500 than a broken body.
        text=json.dumps(data, separators=(",", ":"), allow_nan=False),
        status=status,
        content_type="application/json",
        headers=headers or None,
    )


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), error.status)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def check_authorization(ctx: Context, header: str | None) -> Served:
    """Authorization: exactly `RC-WSKEY <api key>` or `Bearer <token>` with a token the
    emulator issued, as Control Room takes them: the scheme as written, one space. The
    API key as a Bearer token, or with another spelling of the scheme, is refused with a
    message that says how to send it (a robot that passes here passes in Control Room).
    Returns the workspace the credential opens."""
    if not header:
        raise forbidden(
            "Missing Authorization header: send 'RC-WSKEY <api key>' or 'Bearer <token>'."
        )
    scheme, _, credential = header.partition(" ")
    for served in ctx.served.values():
        if scheme == "RC-WSKEY" and same_secret(credential, served.api_key):
            return served
        if scheme == "Bearer" and served.accepts_token(credential):
            return served
    last = header.split()[-1] if header.split() else ""
    for served in ctx.served.values():
        if same_secret(last, served.api_key):
            raise forbidden(
                "The API key must be sent as 'RC-WSKEY <api key>': that scheme, one space."
            )
        if served.accepts_token(last):
            raise forbidden("A token must be sent as 'Bearer <token>': that scheme, one space.")
    raise forbidden("The API key or token in the Authorization header is not valid.")


def check_workspace(served: Served, workspace_id: str) -> None:
    if workspace_id != served.workspace.workspace_id:
        raise forbidden(f"No access to workspace '{workspace_id}' with this API key.")


# --- pagination -------------------------------------------------------------------------


def page_limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return workspace_of(request).page_size
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    # The schema's type is `number`: 2.5 is served as 2; below 1 is no page size.
    if not math.isfinite(value) or value < 1:
        raise bad_request(f"'limit' must be a number from 1 up, got '{raw}'.")
    return min(int(value), MAX_PAGE_SIZE)


def decode_cursor(request: web.Request, kind: str) -> int | None:
    raw = request.query.get("cursor")
    if raw is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = decoded.partition(":")
        if prefix != kind or not number.isascii() or not number.isdigit():
            raise ValueError(decoded)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request("'cursor' is not valid: follow the 'next' URL as given.") from None


def page_response(
    request: web.Request, kind: str, page: list[dict[str, Any]], cursor: int | None, limit: int
) -> web.Response:
    next_url = None
    if cursor is not None:
        token = base64.urlsafe_b64encode(f"{kind}:{cursor}".encode()).decode().rstrip("=")
        query = {k: v for k, v in request.query.items() if k not in ("cursor", "limit")}
        query["limit"] = str(limit)
        query["cursor"] = token
        next_url = str(origin(request).join(request.rel_url).with_query(query))
    return json_response({"next": next_url, "has_more": cursor is not None, "data": page})


HOST_HEADER = re.compile(r"([A-Za-z0-9._~-]+|\[([0-9A-Fa-f:.]+)\])(?::([0-9]{1,5}))?")


def plain_host(host: str) -> bool:
    """`host[:port]` with a plain name, an IPv4 or a bracketed IPv6 address, port 1-65535."""
    match = HOST_HEADER.fullmatch(host)
    if match is None or (match[3] is not None and not 0 < int(match[3]) < 65536):
        return False
    try:
        return match[2] is None or bool(ipaddress.IPv6Address(match[2]))
    except ValueError:
        return False


def origin(request: web.Request) -> URL:
    """`scheme://host:port` as the client addressed the emulator (its Host header), for the
    absolute URLs in answers (`next`, download links). A Host header that is not a plain
    host[:port] is not echoed: the address the request came in on is used instead."""
    if plain_host(request.host):
        return URL.build(scheme=request.scheme, authority=request.host)
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    host, port = (sockname[0], sockname[1]) if sockname else ("127.0.0.1", None)
    return URL.build(scheme=request.scheme, host=host, port=port)


async def read_json(request: web.Request, required: bool) -> Any:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("The request body must be JSON.")
        return None
    try:
        return parse_json(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None


def served_of(request: web.Request) -> Served:
    """The workspace an API or admin request is for: the one its credential opens."""
    return request[SERVED]


def workspace_of(request: web.Request) -> Workspace:
    """The workspace an API request is for. Handlers reach the state only through this."""
    return served_of(request).workspace


def optional(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value if value else None


# --- the Control Room API ------------------------------------------------------------------


async def list_process_runs(request: web.Request) -> web.Response:
    limit = page_limit(request)
    page, cursor = workspace_of(request).list_runs(
        optional(request, "process_id"),
        optional(request, "state"),
        limit,
        decode_cursor(request, "runs"),
    )
    return page_response(request, "runs", page, cursor, limit)


async def get_process_run(request: web.Request) -> web.Response:
    return json_response(workspace_of(request).get_run(request.match_info["run"]))


async def delete_process_run(request: web.Request) -> web.Response:
    return json_response(workspace_of(request).delete_run(request.match_info["run"]))


async def stop_process_run(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    answer = workspace_of(request).stop_run(request.match_info["run"], body)
    served_of(request).callbacks.wake(request.match_info["run"])  # its end moved
    return json_response(answer)


async def _outputs(request: web.Request, run_id: str | None) -> web.Response:
    if not run_id:
        raise bad_request("'process_run_id' is required.")
    limit = page_limit(request)
    page, cursor = workspace_of(request).list_outputs(
        run_id, limit, decode_cursor(request, "outputs"), str(origin(request))
    )
    return page_response(request, "outputs", page, cursor, limit)


async def list_outputs(request: web.Request) -> web.Response:
    return await _outputs(request, optional(request, "process_run_id"))


async def list_outputs_old_path(request: web.Request) -> web.Response:
    return await _outputs(request, request.match_info["run"])


async def list_work_items(request: web.Request) -> web.Response:
    limit = page_limit(request)
    page, cursor = workspace_of(request).list_work_items(
        optional(request, "process_id"),
        optional(request, "process_run_id"),
        optional(request, "state"),
        limit,
        decode_cursor(request, "work-items"),
    )
    return page_response(request, "work-items", page, cursor, limit)


async def start_process_run(request: web.Request) -> web.Response:
    body = await read_json(request, required=False)
    answer = workspace_of(request).start_run(request.match_info["process"], body)
    if answer["started"]:
        served_of(request).callbacks.watch(
            workspace_of(request).runs[answer["id"]]
        )  # does nothing without callback
    return json_response(answer)


async def start_process_run_for_integration(request: web.Request) -> web.StreamResponse:
    handshake = request.query.get("with_handshake")
    if handshake is not None and handshake != "asana":
        raise bad_request(f"'with_handshake' must be 'asana', got '{handshake}'.")
    process_id = request.match_info["process"]
    if process_id not in workspace_of(request).processes:
        raise not_found(f"Process '{process_id}' not found.")
    secret = request.headers.get("X-Hook-Secret")
    if handshake == "asana" and secret is not None:
        # Asana's handshake: echo the secret, start nothing; 204, as Asana's docs allow
        # (a 200 would need a body the operation's schema accepts).
        return web.Response(status=204, headers={"X-Hook-Secret": secret})
    payload = await read_json(request, required=True)
    return json_response(workspace_of(request).start_for_integration(process_id, payload))


async def list_processes(request: web.Request) -> web.Response:
    limit = page_limit(request)
    page, cursor = workspace_of(request).list_processes(limit, decode_cursor(request, "processes"))
    return page_response(request, "processes", page, cursor, limit)


async def create_work_item(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    return json_response(workspace_of(request).create_work_item(body, str(origin(request))))


async def get_work_item(request: web.Request) -> web.Response:
    item_id = request.match_info["item"]
    return json_response(workspace_of(request).get_work_item(item_id, str(origin(request))))


async def create_work_item_file(request: web.Request) -> web.Response:
    """`POST .../files` answers `{"upload": {url, form_data}}` (the generated docs);
    `POST .../files/upload` answers `{url, form_data}` (the 2023-10-19 document)."""
    body = await read_json(request, required=True)
    upload = workspace_of(request).create_work_item_file(
        request.match_info["item"], body, str(origin(request))
    )
    return json_response(upload if request.path.endswith("/upload") else {"upload": upload})


async def update_work_item_payload(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    item_id = request.match_info["item"]
    return json_response(workspace_of(request).update_work_item_payload(item_id, body))


async def run_work_item_batch_operation(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    workspace = workspace_of(request)
    answer, changed_runs = workspace.run_batch_operation(body)
    for run_id in changed_runs:
        served_of(request).callbacks.resume(workspace.runs[run_id])  # a new outcome to deliver
    return json_response(answer)


CORS_HANDLERS: frozenset[Handler] = frozenset(
    {
        start_process_run,
        start_process_run_for_integration,
        delete_process_run,
        list_outputs,
        list_outputs_old_path,
    }
)


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


async def list_step_runs(request: web.Request) -> web.Response:
    limit = page_limit(request)
    workspace = workspace_of(request)
    page, cursor = workspace.list_step_runs(
        optional(request, "process_run_id"), limit, decode_cursor(request, "step-runs")
    )
    for step_run in page:  # starts making the files their artifacts will be asked for
        workspace.robot_variants(step_run["id"])
    return page_response(request, "step-runs", page, cursor, limit)


async def get_step_run(request: web.Request) -> web.Response:
    return json_response(workspace_of(request).get_step_run(request.match_info["step_run"]))


async def robot_files_ready(request: web.Request) -> None:
    """Make the Robot Framework files a step run's artifacts need, off the event loop."""
    for variant in workspace_of(request).robot_variants(request.match_info["step_run"]):
        await asyncio.to_thread(robotfiles.ready, variant)


async def list_step_run_console_messages(request: web.Request) -> web.Response:
    limit = page_limit(request)
    page, cursor = workspace_of(request).list_console_messages(
        request.match_info["step_run"], limit, decode_cursor(request, "console")
    )
    return page_response(request, "console", page, cursor, limit)


async def list_step_run_artifacts(request: web.Request) -> web.Response:
    limit = page_limit(request)
    await robot_files_ready(request)  # for their sizes
    page, cursor = workspace_of(request).list_artifacts(
        request.match_info["step_run"], limit, decode_cursor(request, "artifacts")
    )
    return page_response(request, "artifacts", page, cursor, limit)


async def get_step_run_artifact(request: web.Request) -> web.Response:
    await robot_files_ready(request)
    answer = workspace_of(request).get_artifact(
        request.match_info["step_run"], request.match_info["artifact"], str(origin(request))
    )
    return json_response(answer)


WS = "/workspaces/{ws}"
API_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", f"{WS}/process-runs", list_process_runs),
    ("GET", f"{WS}/process-runs/{{run}}", get_process_run),
    ("DELETE", f"{WS}/process-runs/{{run}}", delete_process_run),
    ("POST", f"{WS}/process-runs/{{run}}/stop", stop_process_run),
    # The path of the 2023-10-19 OpenAPI document; the seed moved it to /outputs.
    ("GET", f"{WS}/process-runs/{{run}}/outputs", list_outputs_old_path),
    ("GET", f"{WS}/outputs", list_outputs),
    ("GET", f"{WS}/work-items", list_work_items),
    ("GET", f"{WS}/processes", list_processes),
    ("POST", f"{WS}/work-items", create_work_item),
    ("POST", f"{WS}/work-items/batch", run_work_item_batch_operation),
    ("GET", f"{WS}/work-items/{{item}}", get_work_item),
    ("POST", f"{WS}/work-items/{{item}}/files", create_work_item_file),
    # The path of the 2023-10-19 OpenAPI document; the generated docs have .../files.
    ("POST", f"{WS}/work-items/{{item}}/files/upload", create_work_item_file),
    ("POST", f"{WS}/work-items/{{item}}/payload", update_work_item_payload),
    # PUT in the 2023-10-19 OpenAPI document; POST in the generated docs.
    ("PUT", f"{WS}/work-items/{{item}}/payload", update_work_item_payload),
    ("POST", f"{WS}/processes/{{process}}/process-runs", start_process_run),
    (
        "POST",
        f"{WS}/processes/{{process}}/process-runs-integrations",
        start_process_run_for_integration,
    ),
    ("GET", f"{WS}/step-runs", list_step_runs),
    ("GET", f"{WS}/step-runs/{{step_run}}", get_step_run),
    ("GET", f"{WS}/step-runs/{{step_run}}/console-messages", list_step_run_console_messages),
    ("GET", f"{WS}/step-runs/{{step_run}}/artifacts", list_step_run_artifacts),
    ("GET", f"{WS}/step-runs/{{step_run}}/artifacts/{{artifact}}", get_step_run_artifact),
]


# --- the middleware: request log, faults, auth, errors -------------------------------------


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


async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The real answer to an API request, errors included."""
    ctx = request.app[CONTEXT]
    route = request.match_info.route
    try:
        refused = request.match_info.http_exception
        if request.method == "OPTIONS" and isinstance(refused, web.HTTPMethodNotAllowed):
            # A browser's preflight carries no credentials.
            return preflight(set(refused.allowed_methods))
        if refused is not None:
            raise not_found(f"No such API operation: {request.method} {request.path}.")
        if route.handler is start_process_run_for_integration:
            # This operation takes the API key in the query, not in a header.
            token = request.query.get("token")
            if not token:
                raise forbidden("Missing 'token' query parameter: give the API key.")
            served = next((s for s in ctx.served.values() if s.accepts_credential(token)), None)
            if served is None:
                raise forbidden("The token is not valid.")
        else:
            served = check_authorization(ctx, request.headers.get("Authorization"))
        check_workspace(served, request.match_info["ws"])
        request[SERVED] = served
        response = await handler(request)
        if response.status == 200 and route.handler in CORS_HANDLERS:
            response.headers.update(CORS)
        return response
    except ApiError as error:
        return error_response(error)
    except Exception as error:
        return unexpected_error_response(request, error)


# Codes that do not follow the reason phrase, which differs between Python versions
# (3.13 renamed 413 "Request Entity Too Large" to "Content Too Large").
HTTP_ERROR_CODES = {413: "request_entity_too_large"}


def unexpected_error_response(request: web.Request, error: Exception) -> web.Response:
    """The catch-all: no answer leaves the emulator without an error body.

    aiohttp's own HTTP errors (e.g. 413 for a body over 16 MiB) keep their status; any
    other exception is a bug of the emulator: 500 `internal_server_error`, and the
    traceback on standard error (the path, never the query: it may hold a token)."""
    if isinstance(error, web.HTTPException) and error.status >= 400:
        phrase = error.reason.lower().replace(" ", "_").replace("-", "_")
        code = HTTP_ERROR_CODES.get(error.status, phrase)
        return error_response(ApiError(error.status, code, f"{error.status} {error.reason}."))
    print(
        f"processrun-emulator: internal error answering {request.method} {request.path}:",
        file=sys.stderr,
    )
    traceback.print_exception(error, file=sys.stderr)
    sys.stderr.flush()
    return error_response(
        ApiError(
            500,
            "internal_server_error",
            f"Internal error of the emulator ({type(error).__name__}); its standard error "
            "has the traceback.",
        )
    )


@web.middleware
async def catch_all_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: the admin API and anything api_middleware did not answer."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return unexpected_error_response(request, error)
    except Exception as error:
        return unexpected_error_response(request, error)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
        return await handler(request)
    ctx = request.app[CONTEXT]
    path = request.path[len(API_PREFIX) :] or "/"
    refused: web.HTTPException | None = None
    try:
        body = await request.read()
    except web.HTTPException as error:  # 413: over client_max_size
        body, refused = b"", error
    entry = ctx.log.record(request.method, path, request.query, request.headers, body)
    started = time.perf_counter()
    try:
        if refused is not None:
            response: web.StreamResponse = unexpected_error_response(request, refused)
        elif (rule := ctx.faults.pick(request.method, path)) is None:
            response = await answer(request, handler)
        else:
            entry["fault"] = rule.id
            response = await apply_fault(request, handler, rule)
            response.headers[FAULT_HEADER] = rule.id
    except Exception as error:
        response = unexpected_error_response(request, error)
    finally:
        entry["duration"] = round(time.perf_counter() - started, 6)
    entry["status"] = response.status
    if not response.prepared:
        # The answer's Date is on the clock of its data: the emulated one.
        response.headers["Date"] = formatdate(ctx.workspace.clock.now(), usegmt=True)
    return response


async def apply_fault(
    request: web.Request,
    handler: Handler,
    rule: FaultRule,
    respond: Callable[[], Awaitable[web.StreamResponse]] | None = None,
) -> web.StreamResponse:
    """What `rule` does to a request; `respond` gives the real answer (default: the API's,
    `answer()`; uploads.py gives its own)."""
    real = respond or (lambda: answer(request, handler))
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


def add_api_routes(app: web.Application) -> None:
    for method, path, handler in API_ROUTES:
        app.router.add_route(method, API_PREFIX + path, handler)


def create_app(ctx: Context) -> web.Application:
    from .admin import add_admin_routes
    from .uploads import add_file_routes
    from .workerapi import add_worker_routes

    app = web.Application(
        middlewares=[catch_all_middleware, api_middleware], client_max_size=16 * 1024 * 1024
    )
    app[CONTEXT] = ctx

    async def close_callbacks(app: web.Application) -> None:
        await app[CONTEXT].close()

    app.on_cleanup.append(close_callbacks)
    add_api_routes(app)
    add_admin_routes(app)
    add_file_routes(app)
    add_worker_routes(app)
    return app


__all__ = ["API_PREFIX", "CONTEXT", "Context", "Served", "create_app"]

"""The HTTP side of the emulator: routes of the Control Room API under /api/v1, the fault
and request-log middleware, and (from admin.py) the admin routes under /_emulator/."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .faults import FaultRule, FaultSet
from .requestlog import RequestLog
from .state import MAX_PAGE_SIZE, ApiError, Workspace, bad_request, not_found

API_PREFIX = "/api/v1"
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


@dataclass
class Context:
    workspace: Workspace
    api_key: str
    tokens: set[str] = field(default_factory=set)
    seed: Any = None
    faults: FaultSet = field(init=False)
    log: RequestLog = field(default_factory=RequestLog)

    def __post_init__(self) -> None:
        self.faults = FaultSet(self.seed)

    def reset_faults(self) -> None:
        self.faults = FaultSet(self.seed)

    def accepts_credential(self, credential: str) -> bool:
        if hmac.compare_digest(credential.encode(), self.api_key.encode()):
            return True
        return any(hmac.compare_digest(credential.encode(), t.encode()) for t in self.tokens)


CONTEXT = web.AppKey("context", Context)


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers=headers or None,
    )


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), error.status)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def check_authorization(ctx: Context, header: str | None) -> None:
    """Authorization: `RC-WSKEY <api key>` or `Bearer <token>` (the API key works as a
    token too, which keeps tests simple)."""
    if not header:
        raise forbidden(
            "Missing Authorization header: send 'RC-WSKEY <api key>' or 'Bearer <token>'."
        )
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() == "rc-wskey" and hmac.compare_digest(
        credential.strip().encode(), ctx.api_key.encode()
    ):
        return
    if scheme.lower() == "bearer" and ctx.accepts_credential(credential.strip()):
        return
    raise forbidden("The API key or token in the Authorization header is not valid.")


def check_workspace(ctx: Context, workspace_id: str) -> None:
    if workspace_id != ctx.workspace.workspace_id:
        raise forbidden(f"No access to workspace '{workspace_id}' with this API key.")


# --- pagination -------------------------------------------------------------------------


def page_limit(request: web.Request, ctx: Context) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return ctx.workspace.page_size
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value.is_integer() or value < 1:
        raise bad_request(f"'limit' must be a positive integer, got '{raw}'.")
    return min(int(value), MAX_PAGE_SIZE)


def decode_cursor(request: web.Request, kind: str) -> int | None:
    raw = request.query.get("cursor")
    if raw is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = decoded.partition(":")
        if prefix != kind:
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
        next_url = str(request.url.with_query(query))
    return json_response({"next": next_url, "has_more": cursor is not None, "data": page})


def origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def read_json(request: web.Request, required: bool) -> Any:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("The request body must be JSON.")
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None


def optional(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value if value else None


# --- the Control Room API ------------------------------------------------------------------


async def list_process_runs(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    limit = page_limit(request, ctx)
    page, cursor = ctx.workspace.list_runs(
        optional(request, "process_id"),
        optional(request, "state"),
        limit,
        decode_cursor(request, "runs"),
    )
    return page_response(request, "runs", page, cursor, limit)


async def get_process_run(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return json_response(ctx.workspace.get_run(request.match_info["run"]))


async def delete_process_run(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return json_response(ctx.workspace.delete_run(request.match_info["run"]))


async def stop_process_run(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await read_json(request, required=True)
    return json_response(ctx.workspace.stop_run(request.match_info["run"], body))


async def _outputs(request: web.Request, run_id: str | None) -> web.Response:
    ctx = request.app[CONTEXT]
    if not run_id:
        raise bad_request("'process_run_id' is required.")
    limit = page_limit(request, ctx)
    page, cursor = ctx.workspace.list_outputs(
        run_id, limit, decode_cursor(request, "outputs"), origin(request)
    )
    return page_response(request, "outputs", page, cursor, limit)


async def list_outputs(request: web.Request) -> web.Response:
    return await _outputs(request, optional(request, "process_run_id"))


async def list_outputs_old_path(request: web.Request) -> web.Response:
    return await _outputs(request, request.match_info["run"])


async def list_work_items(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    limit = page_limit(request, ctx)
    page, cursor = ctx.workspace.list_work_items(
        optional(request, "process_id"),
        optional(request, "process_run_id"),
        optional(request, "state"),
        limit,
        decode_cursor(request, "work-items"),
    )
    return page_response(request, "work-items", page, cursor, limit)


async def start_process_run(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await read_json(request, required=False)
    return json_response(ctx.workspace.start_run(request.match_info["process"], body))


async def start_process_run_for_integration(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    handshake = request.query.get("with_handshake")
    if handshake is not None and handshake != "asana":
        raise bad_request(f"'with_handshake' must be 'asana', got '{handshake}'.")
    process_id = request.match_info["process"]
    if process_id not in ctx.workspace.processes:
        raise not_found(f"Process '{process_id}' not found.")
    secret = request.headers.get("X-Hook-Secret")
    if handshake == "asana" and secret is not None:
        # Asana's handshake: echo the secret, start nothing.
        return json_response({}, 200, **{"X-Hook-Secret": secret})
    payload = await read_json(request, required=True)
    return json_response(ctx.workspace.start_for_integration(process_id, payload))


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
    ("POST", f"{WS}/processes/{{process}}/process-runs", start_process_run),
    (
        "POST",
        f"{WS}/processes/{{process}}/process-runs-integrations",
        start_process_run_for_integration,
    ),
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
        if request.match_info.http_exception is not None:
            raise not_found(f"No such API operation: {request.method} {request.path}.")
        if route.handler is start_process_run_for_integration:
            # This operation takes the API key in the query, not in a header.
            token = request.query.get("token")
            if not token:
                raise forbidden("Missing 'token' query parameter: give the API key.")
            if not ctx.accepts_credential(token):
                raise forbidden("The token is not valid.")
        else:
            check_authorization(ctx, request.headers.get("Authorization"))
        check_workspace(ctx, request.match_info["ws"])
        return await handler(request)
    except ApiError as error:
        return error_response(error)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
        return await handler(request)
    ctx = request.app[CONTEXT]
    path = request.path[len(API_PREFIX) :] or "/"
    body = await request.read()
    entry = ctx.log.record(request.method, path, request.query, request.headers, body)
    started = time.perf_counter()
    rule = ctx.faults.pick(request.method, path)
    try:
        if rule is None:
            response = await answer(request, handler)
        else:
            entry["fault"] = rule.id
            response = await apply_fault(request, handler, rule)
            response.headers[FAULT_HEADER] = rule.id
        entry["status"] = response.status
        return response
    finally:
        entry["duration"] = round(time.perf_counter() - started, 6)


async def apply_fault(
    request: web.Request, handler: Handler, rule: FaultRule
) -> web.StreamResponse:
    if rule.latency:
        await asyncio.sleep(rule.latency)
    if rule.hang:
        await asyncio.sleep(HANG_SECONDS)
        return await drop_connection(request)
    if rule.lost_answer:
        await answer(request, handler)  # done for real, e.g. the run is created
    if rule.drop:
        return await drop_connection(request)
    if rule.status is not None:
        return fault_response(rule)
    return await answer(request, handler)


def add_api_routes(app: web.Application) -> None:
    for method, path, handler in API_ROUTES:
        app.router.add_route(method, API_PREFIX + path, handler)


def create_app(ctx: Context) -> web.Application:
    from .admin import add_admin_routes

    app = web.Application(middlewares=[api_middleware], client_max_size=16 * 1024 * 1024)
    app[CONTEXT] = ctx
    add_api_routes(app)
    add_admin_routes(app)
    return app


__all__ = ["API_PREFIX", "CONTEXT", "Context", "create_app"]

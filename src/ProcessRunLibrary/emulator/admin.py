"""The admin API under /_emulator/: define processes, inject faults, read the request log.

Every admin route except /_emulator/health and the download URLs (/_emulator/files/{id},
/_emulator/workspaces/{ws}/step-runs/{sr}/artifacts/{id}: signed instead) needs the same
Authorization header as the API. Admin requests are not in the request log (the download
URLs are) and no fault applies to them.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..version import VERSION
from . import signing
from .app import (
    CONTEXT,
    Handler,
    check_authorization,
    check_workspace,
    error_response,
    forbidden,
    json_response,
    read_json,
    robot_files_ready,
    workspace_of,
)
from .common import ApiError, ConfigError, bad_request, not_found
from .processes import parse_process

ADMIN_PREFIX = "/_emulator"


def admin(handler: Handler) -> Handler:
    """Check the Authorization header and turn errors into JSON error bodies."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            check_authorization(request.app[CONTEXT], request.headers.get("Authorization"))
            return await handler(request)
        except ConfigError as error:
            return error_response(bad_request(str(error)))
        except ApiError as error:
            return error_response(error)

    return wrapper


async def health(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return json_response(
        {
            "status": "ok",
            "workspace_id": ctx.workspace.workspace_id,
            "clock_factor": ctx.workspace.clock.factor,
            "version": VERSION,
        }
    )


def attachment(name: str) -> str:
    """A Content-Disposition for any file name: percent-encoded (RFC 6266), so that a
    hostile name (quotes, CR LF, NUL) cannot break the header."""
    return f"attachment; filename*=UTF-8''{quote(name, safe='')}"


def signed_download(handler: Handler) -> Handler:
    """A download URL: no Authorization header, but a signature that has not expired
    (signing.py), else 403. The request is in the request log with its full path (the
    signature masked), so that a test can see what a client sent to it."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        log = request.app[CONTEXT].log
        entry = log.record(request.method, request.path, request.query, request.headers, b"")
        started = time.perf_counter()
        reason = signing.check(request.path, request.query)
        try:
            if reason is not None:
                raise forbidden(reason)
            response = await handler(request)
        except ApiError as error:
            response = error_response(error)
        entry["duration"] = round(time.perf_counter() - started, 6)
        entry["status"] = response.status
        return response

    return wrapper


@signed_download
async def download_file(request: web.Request) -> web.Response:
    # Like Control Room's download links, these need no Authorization header.
    file = workspace_of(request).files.get(request.match_info["id"])
    if file is None:
        raise not_found(f"File '{request.match_info['id']}' not found.")
    return web.Response(
        body=file.content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": attachment(file.name)},
    )


@signed_download
async def download_artifact(request: web.Request) -> web.StreamResponse:
    """A step run artifact, streamed in chunks (a large one is never whole in memory)."""
    workspace = workspace_of(request)
    check_workspace(request.app[CONTEXT], request.match_info["ws"])
    await robot_files_ready(request)
    name, size, chunks = workspace.artifact_content(
        request.match_info["step_run"], request.match_info["artifact"]
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": attachment(name),
        }
    )
    response.content_length = size
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


@admin
async def list_processes(request: web.Request) -> web.Response:
    return json_response({"data": request.app[CONTEXT].workspace.processes_json()})


@admin
async def put_process(request: web.Request) -> web.Response:
    workspace = request.app[CONTEXT].workspace
    process = parse_process(await read_json(request, required=True), request.match_info["id"])
    workspace.define_process(process)
    return json_response(next(p for p in workspace.processes_json() if p["id"] == process.id))


@admin
async def delete_process(request: web.Request) -> web.Response:
    request.app[CONTEXT].workspace.delete_process(request.match_info["id"])
    return json_response({"id": request.match_info["id"], "deleted": True})


@admin
async def reset(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict) or not isinstance(body.get("processes", False), bool):
        raise bad_request('The body must be empty or {"processes": true|false}.')
    ctx.workspace.reset(reset_processes=body.get("processes", False))
    ctx.callbacks.cancel_all()
    ctx.reset_faults()
    ctx.log.clear()
    return json_response({"reset": True, "processes_reset": body.get("processes", False)})


@admin
async def add_fault(request: web.Request) -> web.Response:
    rule = request.app[CONTEXT].faults.add(await read_json(request, required=True))
    return json_response(rule.to_json())


@admin
async def list_faults(request: web.Request) -> web.Response:
    return json_response({"data": [r.to_json() for r in request.app[CONTEXT].faults.rules]})


@admin
async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"deleted": request.app[CONTEXT].faults.clear()})


@admin
async def delete_fault(request: web.Request) -> web.Response:
    rule_id = request.match_info["id"]
    if not request.app[CONTEXT].faults.remove(rule_id):
        raise not_found(f"Fault rule '{rule_id}' not found.")
    return json_response({"id": rule_id, "deleted": True})


@admin
async def list_requests(request: web.Request) -> web.Response:
    path = request.query.get("path") or None
    if path is not None:
        try:
            re.compile(path)
        except re.error as err:
            raise bad_request(f"'path' is not a valid regular expression: {err}.") from None
    entries = request.app[CONTEXT].log.select(request.query.get("method") or None, path)
    return json_response({"data": entries})


@admin
async def clear_requests(request: web.Request) -> web.Response:
    return json_response({"deleted": request.app[CONTEXT].log.clear()})


@admin
async def list_runs(request: web.Request) -> web.Response:
    workspace = request.app[CONTEXT].workspace
    return json_response({"data": workspace.runs_json(request.query.get("process_id") or None)})


@admin
async def add_token(request: web.Request) -> web.Response:
    body: Any = await read_json(request, required=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not body["token"]:
        raise bad_request('The body must be {"token": "<a non-empty string>"}.')
    request.app[CONTEXT].tokens.add(body["token"])
    return json_response({"accepted": True})


@web.middleware
async def admin_not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX) and request.match_info.http_exception is not None:
        return error_response(
            not_found(f"No such admin operation: {request.method} {request.path}.")
        )
    return await handler(request)


def add_admin_routes(app: web.Application) -> None:
    app.middlewares.append(admin_not_found)
    routes = [
        ("GET", "/health", health),
        ("GET", "/files/{id}", download_file),
        ("GET", "/workspaces/{ws}/step-runs/{step_run}/artifacts/{artifact}", download_artifact),
        ("GET", "/processes", list_processes),
        ("PUT", "/processes/{id}", put_process),
        ("DELETE", "/processes/{id}", delete_process),
        ("POST", "/reset", reset),
        ("POST", "/faults", add_fault),
        ("GET", "/faults", list_faults),
        ("DELETE", "/faults", clear_faults),
        ("DELETE", "/faults/{id}", delete_fault),
        ("GET", "/requests", list_requests),
        ("DELETE", "/requests", clear_requests),
        ("GET", "/runs", list_runs),
        ("POST", "/tokens", add_token),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, ADMIN_PREFIX + path, handler)

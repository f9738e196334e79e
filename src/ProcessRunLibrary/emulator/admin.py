"""The admin API under /_emulator/: define processes, inject faults, read the request log.

Every admin route except /_emulator/health and the download URLs (/_emulator/files/{id}, the
work item file URLs of uploads.py,
/_emulator/workspaces/{ws}/step-runs/{sr}/artifacts/{id}: signed instead) needs the same
Authorization header as the API. Admin requests are not in the request log (the download
URLs are) and no fault applies to them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import time
import uuid
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..version import VERSION
from . import signing
from .app import (
    CONTEXT,
    SERVED,
    Handler,
    check_authorization,
    error_response,
    forbidden,
    json_response,
    read_json,
    robot_files_ready,
    served_of,
    workspace_of,
)
from .common import ApiError, ConfigError, bad_request, not_found
from .model import Run
from .processes import parse_file, parse_process

MAX_SEEDED_RUNS = 100_000
SEED_OUTCOMES = ("completed", "unresolved")

ADMIN_PREFIX = "/_emulator"


def admin(handler: Handler) -> Handler:
    """Check the Authorization header and turn errors into JSON error bodies."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            ctx = request.app[CONTEXT]
            request[SERVED] = check_authorization(ctx, request.headers.get("Authorization"))
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
            "workspaces": list(ctx.served),
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
    file_id = request.match_info["id"]
    file = request.app[CONTEXT].holding(lambda w: file_id in w.files).files.get(file_id)
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
    served = request.app[CONTEXT].served.get(request.match_info["ws"])
    if served is None:
        raise not_found(f"Workspace '{request.match_info['ws']}' not found.")
    request[SERVED] = served
    workspace = served.workspace
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
    return json_response({"data": workspace_of(request).processes_json()})


@admin
async def put_process(request: web.Request) -> web.Response:
    workspace = workspace_of(request)
    process = parse_process(await read_json(request, required=True), request.match_info["id"])
    workspace.define_process(process, from_api=True)
    return json_response(next(p for p in workspace.processes_json() if p["id"] == process.id))


@admin
async def delete_process(request: web.Request) -> web.Response:
    workspace_of(request).delete_process(request.match_info["id"])
    return json_response({"id": request.match_info["id"], "deleted": True})


@admin
async def reset(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict) or not isinstance(body.get("processes", False), bool):
        raise bad_request('The body must be empty or {"processes": true|false}.')
    ctx.reset(reset_processes=body.get("processes", False))
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
    workspace = workspace_of(request)
    return json_response({"data": workspace.runs_json(request.query.get("process_id") or None)})


def _seed_lengths(body: Any) -> tuple[int, list[float], str]:
    if not isinstance(body, dict) or set(body) - {"count", "run_seconds", "outcome"}:
        raise bad_request(
            'The body must be {"count": <1..100000>, "run_seconds": <seconds or a list of '
            'seconds>, "outcome": "completed"|"unresolved"} (run_seconds and outcome optional).'
        )
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_SEEDED_RUNS:
        raise bad_request(f"'count' must be a whole number from 1 to {MAX_SEEDED_RUNS}.")
    lengths = body.get("run_seconds", [])
    lengths = lengths if isinstance(lengths, list) else [lengths]
    if not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= 0
        for x in lengths
    ):
        raise bad_request("'run_seconds' must be a number of seconds >= 0 or a list of them.")
    outcome = body.get("outcome", "completed")
    if outcome not in SEED_OUTCOMES:
        raise bad_request("'outcome' must be 'completed' or 'unresolved'.")
    return count, [float(x) for x in lengths], outcome


@admin
async def seed_runs(request: web.Request) -> web.Response:
    """Add ``count`` runs of a process that have already ended, one emulated second
    apart, the newest ending now; their lengths are ``run_seconds`` in turn (default:
    the process's). They have no work items. Much faster than starting runs."""
    workspace = workspace_of(request)
    process = workspace._process(request.match_info["id"])
    count, lengths, outcome = _seed_lengths(await read_json(request, required=True))
    lengths = lengths or [process.run_seconds or 0.0]
    now = workspace.clock.now()
    ids = []
    for index in range(count):
        length = lengths[index % len(lengths)]
        snapshot = dataclasses.replace(
            process, new_seconds=0.0, run_seconds=length, outcome=outcome, outputs=()
        )
        created = now - (count - 1 - index) - length
        run = Run(str(uuid.uuid4()), workspace._next_seq(), snapshot, created, [], "seeded")
        workspace.runs[run.id] = run
        ids.append(run.id)
    return json_response({"seeded": count, "first_id": ids[0], "last_id": ids[-1]})


@admin
async def add_token(request: web.Request) -> web.Response:
    body: Any = await read_json(request, required=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not body["token"]:
        raise bad_request('The body must be {"token": "<a non-empty string>"}.')
    request.app[CONTEXT].add_token(served_of(request), body["token"])
    return json_response({"accepted": True})


@admin
async def add_work_item(request: web.Request) -> web.Response:
    body: Any = await read_json(request, required=True)
    if not isinstance(body, dict) or not isinstance(body.get("process_id"), str):
        raise bad_request(
            'The body must be {"process_id": "...", "payload": ..., "files": [{"name": ..., '
            '"content" or "content_base64": ...}]}.'
        )
    given = body.get("files") or []
    if not isinstance(given, list):
        raise bad_request("'files' must be a list.")
    files = [(f.name, f.content) for f in (parse_file(f, "A work item file") for f in given)]
    workspace = workspace_of(request)
    item = workspace.add_input_work_item(body["process_id"], body.get("payload", {}), files)
    return json_response(next(i for i in workspace.work_items_json() if i["id"] == item.id))


@admin
async def list_work_items(request: web.Request) -> web.Response:
    workspace = workspace_of(request)
    process_id = request.query.get("process_id") or None
    run_id = request.query.get("process_run_id") or None
    return json_response({"data": workspace.work_items_json(process_id, run_id)})


@admin
async def list_workspaces(request: web.Request) -> web.Response:
    """The workspaces served, first the one the emulator started with; `current` is the
    one the request's credential opens (the one the other admin routes act on)."""
    ctx = request.app[CONTEXT]
    return json_response(
        {
            "current": workspace_of(request).workspace_id,
            "data": [
                {"workspace_id": s.workspace.workspace_id, "processes": list(s.workspace.processes)}
                for s in ctx.served.values()
            ],
        }
    )


@admin
async def add_workspace(request: web.Request) -> web.Response:
    body: Any = await read_json(request, required=True)
    if (
        not isinstance(body, dict)
        or set(body) != {"workspace_id", "api_key"}
        or not all(isinstance(v, str) for v in body.values())
    ):
        raise bad_request('The body must be {"workspace_id": "...", "api_key": "..."}.')
    served = request.app[CONTEXT].new_workspace(body["workspace_id"], body["api_key"])
    workspace = served.workspace
    return json_response(
        {"workspace_id": workspace.workspace_id, "processes": list(workspace.processes)}
    )


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
        ("POST", "/processes/{id}/runs", seed_runs),
        ("POST", "/reset", reset),
        ("POST", "/faults", add_fault),
        ("GET", "/faults", list_faults),
        ("DELETE", "/faults", clear_faults),
        ("DELETE", "/faults/{id}", delete_fault),
        ("GET", "/requests", list_requests),
        ("DELETE", "/requests", clear_requests),
        ("GET", "/runs", list_runs),
        ("POST", "/tokens", add_token),
        ("GET", "/workspaces", list_workspaces),
        ("POST", "/workspaces", add_workspace),
        ("POST", "/work-items", add_work_item),
        ("GET", "/work-items", list_work_items),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, ADMIN_PREFIX + path, handler)

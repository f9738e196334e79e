"""The admin API under /_emulator/: define processes, inject faults, read the request log.

Every admin route but /_emulator/health needs the same Authorization header as the API
(middleware.py: ADMIN). Admin requests are not in the request log and no fault applies to
them. The download and upload URLs under /_emulator/ are in files.py.
"""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from typing import Any

from aiohttp import web

from ...version import VERSION
from ..common import bad_request, not_found
from ..model import Run
from ..processes import parse_file, parse_process
from .web import ADMIN_PREFIX, CONTEXT, json_response, read_json, served_of, workspace_of

routes = web.RouteTableDef()
MAX_SEEDED_RUNS = 100_000
SEED_OUTCOMES = ("completed", "unresolved")


@routes.get(ADMIN_PREFIX + "/health")
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


@routes.get(ADMIN_PREFIX + "/processes")
async def list_processes(request: web.Request) -> web.Response:
    return json_response({"data": workspace_of(request).processes_json()})


@routes.put(ADMIN_PREFIX + "/processes/{id}")
async def put_process(request: web.Request) -> web.Response:
    workspace = workspace_of(request)
    process = parse_process(await read_json(request, required=True), request.match_info["id"])
    workspace.define_process(process, from_api=True)
    return json_response(next(p for p in workspace.processes_json() if p["id"] == process.id))


@routes.delete(ADMIN_PREFIX + "/processes/{id}")
async def delete_process(request: web.Request) -> web.Response:
    workspace_of(request).delete_process(request.match_info["id"])
    return json_response({"id": request.match_info["id"], "deleted": True})


@routes.post(ADMIN_PREFIX + "/reset")
async def reset(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict) or not isinstance(body.get("processes", False), bool):
        raise bad_request('The body must be empty or {"processes": true|false}.')
    ctx.reset(reset_processes=body.get("processes", False))
    return json_response({"reset": True, "processes_reset": body.get("processes", False)})


@routes.post(ADMIN_PREFIX + "/faults")
async def add_fault(request: web.Request) -> web.Response:
    rule = request.app[CONTEXT].faults.add(await read_json(request, required=True))
    return json_response(rule.to_json())


@routes.get(ADMIN_PREFIX + "/faults")
async def list_faults(request: web.Request) -> web.Response:
    return json_response({"data": [r.to_json() for r in request.app[CONTEXT].faults.rules]})


@routes.delete(ADMIN_PREFIX + "/faults")
async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"deleted": request.app[CONTEXT].faults.clear()})


@routes.delete(ADMIN_PREFIX + "/faults/{id}")
async def delete_fault(request: web.Request) -> web.Response:
    rule_id = request.match_info["id"]
    if not request.app[CONTEXT].faults.remove(rule_id):
        raise not_found(f"Fault rule '{rule_id}' not found.")
    return json_response({"id": rule_id, "deleted": True})


@routes.get(ADMIN_PREFIX + "/requests")
async def list_requests(request: web.Request) -> web.Response:
    path = request.query.get("path") or None
    if path is not None:
        try:
            re.compile(path)
        except re.error as err:
            raise bad_request(f"'path' is not a valid regular expression: {err}.") from None
    entries = request.app[CONTEXT].log.select(request.query.get("method") or None, path)
    return json_response({"data": entries})


@routes.delete(ADMIN_PREFIX + "/requests")
async def clear_requests(request: web.Request) -> web.Response:
    return json_response({"deleted": request.app[CONTEXT].log.clear()})


@routes.get(ADMIN_PREFIX + "/runs")
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


@routes.post(ADMIN_PREFIX + "/processes/{id}/runs")
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


@routes.post(ADMIN_PREFIX + "/tokens")
async def add_token(request: web.Request) -> web.Response:
    body: Any = await read_json(request, required=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not body["token"]:
        raise bad_request('The body must be {"token": "<a non-empty string>"}.')
    request.app[CONTEXT].add_token(served_of(request), body["token"])
    return json_response({"accepted": True})


@routes.post(ADMIN_PREFIX + "/work-items")
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


@routes.get(ADMIN_PREFIX + "/work-items")
async def list_work_items(request: web.Request) -> web.Response:
    workspace = workspace_of(request)
    process_id = request.query.get("process_id") or None
    run_id = request.query.get("process_run_id") or None
    return json_response({"data": workspace.work_items_json(process_id, run_id)})


@routes.get(ADMIN_PREFIX + "/workspaces")
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


@routes.post(ADMIN_PREFIX + "/workspaces")
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

"""Routes of the Control Room API for step runs, their console messages, events and
artifacts."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ... import robotfiles
from ...state import Workspace
from ..web import API_PREFIX, WS, Page, json_response, optional, origin, paged, workspace_of

routes = web.RouteTableDef()
STEP_RUNS = f"{API_PREFIX}{WS}/step-runs"


async def robot_files_ready(request: web.Request) -> None:
    """Make the Robot Framework files a step run's artifacts need, off the event loop."""
    for variant in workspace_of(request).robot_variants(request.match_info["step_run"]):
        await asyncio.to_thread(robotfiles.ready, variant)


@routes.get(STEP_RUNS)
async def list_step_runs(request: web.Request) -> web.Response:
    run_id = optional(request, "process_run_id")

    def lister(workspace: Workspace, limit: int, cursor: int | None) -> Page:
        page, next_cursor = workspace.list_step_runs(run_id, limit, cursor)
        for step_run in page:  # starts making the files their artifacts will be asked for
            workspace.robot_variants(step_run["id"])
        return page, next_cursor

    return paged(request, "step-runs", lister)


@routes.get(STEP_RUNS + "/{step_run}")
async def get_step_run(request: web.Request) -> web.Response:
    return json_response(workspace_of(request).get_step_run(request.match_info["step_run"]))


@routes.get(STEP_RUNS + "/{step_run}/console-messages")
async def list_step_run_console_messages(request: web.Request) -> web.Response:
    step_run = request.match_info["step_run"]
    return paged(
        request,
        "console",
        lambda ws, limit, cursor: ws.list_console_messages(step_run, limit, cursor),
    )


@routes.get(STEP_RUNS + "/{step_run}/events")
async def list_step_run_events(request: web.Request) -> web.Response:
    step_run = request.match_info["step_run"]
    return paged(
        request, "events", lambda ws, limit, cursor: ws.list_events(step_run, limit, cursor)
    )


@routes.get(STEP_RUNS + "/{step_run}/artifacts")
async def list_step_run_artifacts(request: web.Request) -> web.Response:
    await robot_files_ready(request)  # for their sizes
    step_run = request.match_info["step_run"]
    return paged(
        request, "artifacts", lambda ws, limit, cursor: ws.list_artifacts(step_run, limit, cursor)
    )


@routes.get(STEP_RUNS + "/{step_run}/artifacts/{artifact}")
async def get_step_run_artifact(request: web.Request) -> web.Response:
    await robot_files_ready(request)
    answer = workspace_of(request).get_artifact(
        request.match_info["step_run"], request.match_info["artifact"], str(origin(request))
    )
    return json_response(answer)

"""The worker-side API over HTTP: the json-v1 and process-v1 paths a step run's command
calls (worker.py has the state operations). Outside /api/v1; each request is in the
request log and fault rules apply to it (matched against its full path), as to the API.

Only a step run's Bearer token opens these paths; the workspace key and the tokens of
/api/v1 do not, nor does a step run's token open /api/v1 (app.py knows nothing of it)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .app import (
    CONTEXT,
    FAULT_HEADER,
    Context,
    Handler,
    apply_fault,
    error_response,
    json_response,
    origin,
    read_json,
    unexpected_error_response,
)
from .common import ApiError
from .model import LiveStepRun, Run
from .state import Workspace

JSON_V1 = "/json-v1/workspaces/{ws}/workitems/{item}"
PROCESS_V1 = "/process-v1/workspaces/{ws}/processes/{process}"
ROBOT_RUN = PROCESS_V1 + "/runs/{run}/robotRuns/{step_run}"

routes = web.RouteTableDef()


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def authorize_worker(ctx: Context, request: web.Request) -> tuple[Workspace, Run, LiveStepRun]:
    """The workspace, run and step run whose token the request carries ('Bearer <token>',
    as RC_API_WORKITEM_TOKEN and RC_API_PROCESS_TOKEN are sent), for the workspace in its
    path only. The middleware of the server calls this for the worker-side paths."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        raise unauthorized(
            "A worker-side call needs 'Authorization: Bearer <token>' with its step run's "
            "token (RC_API_WORKITEM_TOKEN or RC_API_PROCESS_TOKEN)."
        )
    for served in ctx.served.values():
        grant = served.workspace.grant(token)
        if grant is None:
            continue
        if served.workspace.workspace_id != request.match_info["ws"]:
            raise ApiError(
                403,
                "forbidden",
                f"No access to workspace '{request.match_info['ws']}' with this step run's token.",
            )
        return served.workspace, *grant
    raise unauthorized("The token is not the token of a step run in progress.")


def worker(handler: Any) -> Handler:
    """Log the request (with its body), apply fault rules, check the token, answer errors
    as JSON: what the API's middleware does for /api/v1."""

    async def respond(request: web.Request) -> web.StreamResponse:
        try:
            workspace, run, step_run = authorize_worker(request.app[CONTEXT], request)
            return await handler(request, workspace, run, step_run)
        except ApiError as error:
            return error_response(error)
        except Exception as error:
            return unexpected_error_response(request, error)

    async def wrapper(request: web.Request) -> web.StreamResponse:
        ctx = request.app[CONTEXT]
        body = await request.read()
        entry = ctx.log.record(request.method, request.path, request.query, request.headers, body)
        started = time.perf_counter()
        try:
            rule = ctx.faults.pick(request.method, request.path)
            if rule is None:
                response = await respond(request)
            else:
                entry["fault"] = rule.id
                response = await apply_fault(
                    request, respond, rule, respond=lambda: respond(request)
                )
                response.headers[FAULT_HEADER] = rule.id
        finally:
            entry["duration"] = round(time.perf_counter() - started, 6)
        entry["status"] = response.status
        return response

    return wrapper


def base_url(request: web.Request) -> str:
    return str(origin(request))


# --- process-v1 ------------------------------------------------------------------------------


def _own_step_run(request: web.Request, workspace: Workspace, run: Run, step_run: Any) -> None:
    info = request.match_info
    workspace.check_step_run(run, step_run, info["process"], info["run"], info["step_run"])


@routes.post(ROBOT_RUN + "/reserve-next-work-item")
@worker
async def reserve_next_work_item(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    _own_step_run(request, workspace, run, step_run)
    return json_response(workspace.worker_reserve(run, step_run))


@routes.post(ROBOT_RUN + "/release-work-item")
@worker
async def release_work_item(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    _own_step_run(request, workspace, run, step_run)
    body = await read_json(request, required=True)
    return json_response(workspace.worker_release(run, step_run, body))


@routes.post(PROCESS_V1 + "/work-items/{item}/output")
@worker
async def create_output_work_item(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    if request.match_info["process"] != run.process.id:
        raise ApiError(
            403,
            "forbidden",
            f"This token is of a step run of process '{run.process.id}': it opens no other "
            "process.",
        )
    body = await read_json(request, required=True)
    item_id = request.match_info["item"]
    return json_response(workspace.worker_output(run, step_run, item_id, body))


# --- json-v1 ---------------------------------------------------------------------------------


@routes.get(JSON_V1 + "/data")
@worker
async def get_payload(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    return json_response(workspace.worker_payload(step_run, request.match_info["item"]))


@routes.put(JSON_V1 + "/data")
@worker
async def put_payload(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    payload = await read_json(request, required=True)
    item_id = request.match_info["item"]
    return json_response(workspace.worker_set_payload(step_run, item_id, payload))


@routes.get(JSON_V1 + "/files")
@worker
async def list_files(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    return json_response(workspace.worker_files(step_run, request.match_info["item"]))


@routes.post(JSON_V1 + "/files")
@worker
async def add_file(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    body = await read_json(request, required=True)
    item_id = request.match_info["item"]
    return json_response(workspace.worker_announce(step_run, item_id, body, base_url(request)))


@routes.get(JSON_V1 + "/files/{file}")
@worker
async def get_file(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    info = request.match_info
    return json_response(
        workspace.worker_file_url(step_run, info["item"], info["file"], base_url(request))
    )


@routes.delete(JSON_V1 + "/files/{file}")
@worker
async def delete_file(
    request: web.Request, workspace: Workspace, run: Run, step_run: LiveStepRun
) -> web.Response:
    info = request.match_info
    return json_response(workspace.worker_delete_file(step_run, info["item"], info["file"]))


async def close_commands(app: web.Application) -> None:
    """No command outlives the emulator."""
    for served in app[CONTEXT].served.values():
        await served.workspace.close_commands()


def add_worker_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
    app.on_shutdown.append(close_commands)

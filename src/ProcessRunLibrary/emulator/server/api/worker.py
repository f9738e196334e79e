"""The worker-side API: the json-v1 and process-v1 paths a step run's command calls
(worker.py has the state operations). Outside /api/v1, on surfaces of their own
(middleware.py): each request is in the request log and fault rules apply to it, matched
against its full path.

Only a step run's Bearer token opens these paths (`worker_credential`); the workspace key
and the tokens of /api/v1 do not, nor does a step run's token open /api/v1 (context.py
knows nothing of it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...common import ApiError, forbidden
from ...model import LiveStepRun, Run
from ...state import Workspace
from ..context import Served
from ..web import CONTEXT, json_response, origin, read_json

JSON_V1 = "/json-v1/workspaces/{ws}/workitems/{item}"
PROCESS_V1 = "/process-v1/workspaces/{ws}/processes/{process}"
ROBOT_RUN = PROCESS_V1 + "/runs/{run}/robotRuns/{step_run}"
PREFIXES = ("/json-v1/", "/process-v1/")
# The request's key for the step run its token belongs to.
GRANT: Any = web.RequestKey("grant", tuple) if hasattr(web, "RequestKey") else "grant"

routes = web.RouteTableDef()


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def worker_credential(request: web.Request) -> Served:
    """The workspace whose step run's token the request carries ('Bearer <token>', as
    RC_API_WORKITEM_TOKEN and RC_API_PROCESS_TOKEN are sent), for the workspace in its path
    only; the run and step run go in the request (GRANT). The middleware calls it."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        raise unauthorized(
            "A worker-side call needs 'Authorization: Bearer <token>' with its step run's "
            "token (RC_API_WORKITEM_TOKEN or RC_API_PROCESS_TOKEN)."
        )
    for served in request.app[CONTEXT].served.values():
        grant = served.workspace.grant(token)
        if grant is None:
            continue
        if served.workspace.workspace_id != request.match_info["ws"]:
            raise forbidden(
                f"No access to workspace '{request.match_info['ws']}' with this step run's token."
            )
        request[GRANT] = (served.workspace, *grant)
        return served
    raise unauthorized("The token is not the token of a step run in progress.")


def granted(request: web.Request) -> tuple[Workspace, Run, LiveStepRun]:
    workspace, run, step_run = request[GRANT]
    return workspace, run, step_run


def base_url(request: web.Request) -> str:
    return str(origin(request))


# --- process-v1 ------------------------------------------------------------------------------


def own_step_run(request: web.Request) -> tuple[Workspace, Run, LiveStepRun]:
    workspace, run, step_run = granted(request)
    info = request.match_info
    workspace.check_step_run(run, step_run, info["process"], info["run"], info["step_run"])
    return workspace, run, step_run


@routes.post(ROBOT_RUN + "/reserve-next-work-item")
async def reserve_next_work_item(request: web.Request) -> web.Response:
    workspace, run, step_run = own_step_run(request)
    return json_response(workspace.worker_reserve(run, step_run))


@routes.post(ROBOT_RUN + "/release-work-item")
async def release_work_item(request: web.Request) -> web.Response:
    workspace, run, step_run = own_step_run(request)
    body = await read_json(request, required=True)
    return json_response(workspace.worker_release(run, step_run, body))


@routes.post(PROCESS_V1 + "/work-items/{item}/output")
async def create_output_work_item(request: web.Request) -> web.Response:
    workspace, run, step_run = granted(request)
    if request.match_info["process"] != run.process.id:
        raise forbidden(
            f"This token is of a step run of process '{run.process.id}': it opens no other process."
        )
    body = await read_json(request, required=True)
    item_id = request.match_info["item"]
    return json_response(workspace.worker_output(run, step_run, item_id, body))


# --- json-v1 ---------------------------------------------------------------------------------


def granted_item(request: web.Request) -> tuple[Workspace, LiveStepRun, str]:
    """The workspace, the step run the token is of, and the work item in the path: the step
    run's own items are all a json-v1 path opens (worker.py checks)."""
    workspace, _, step_run = granted(request)
    return workspace, step_run, request.match_info["item"]


@routes.get(JSON_V1 + "/data")
async def get_payload(request: web.Request) -> web.Response:
    workspace, step_run, item_id = granted_item(request)
    return json_response(workspace.worker_payload(step_run, item_id))


@routes.put(JSON_V1 + "/data")
async def put_payload(request: web.Request) -> web.Response:
    workspace, step_run, item_id = granted_item(request)
    payload = await read_json(request, required=True)
    return json_response(workspace.worker_set_payload(step_run, item_id, payload))


@routes.get(JSON_V1 + "/files")
async def list_files(request: web.Request) -> web.Response:
    workspace, step_run, item_id = granted_item(request)
    return json_response(workspace.worker_files(step_run, item_id))


@routes.post(JSON_V1 + "/files")
async def add_file(request: web.Request) -> web.Response:
    workspace, step_run, item_id = granted_item(request)
    body = await read_json(request, required=True)
    return json_response(workspace.worker_announce(step_run, item_id, body, base_url(request)))


@routes.get(JSON_V1 + "/files/{file}")
async def get_file(request: web.Request) -> web.Response:
    workspace, step_run, item_id = granted_item(request)
    file_id = request.match_info["file"]
    return json_response(workspace.worker_file_url(step_run, item_id, file_id, base_url(request)))


@routes.delete(JSON_V1 + "/files/{file}")
async def delete_file(request: web.Request) -> web.Response:
    workspace, step_run, item_id = granted_item(request)
    file_id = request.match_info["file"]
    return json_response(workspace.worker_delete_file(step_run, item_id, file_id))

"""Routes of the Control Room API for work items."""

from __future__ import annotations

from aiohttp import web

from ...common import bad_request, is_number
from ..files import too_large
from ..web import (
    API_PREFIX,
    CONTEXT,
    WS,
    json_response,
    optional,
    origin,
    paged,
    read_json,
    served_of,
    workspace_of,
)

routes = web.RouteTableDef()
ITEMS = f"{API_PREFIX}{WS}/work-items"


@routes.get(ITEMS)
async def list_work_items(request: web.Request) -> web.Response:
    process_id, run_id, state = (
        optional(request, name) for name in ("process_id", "process_run_id", "state")
    )
    return paged(
        request,
        "work-items",
        lambda ws, limit, cursor: ws.list_work_items(process_id, run_id, state, limit, cursor),
    )


@routes.post(ITEMS)
async def create_work_item(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    return json_response(workspace_of(request).create_work_item(body, str(origin(request))))


@routes.post(ITEMS + "/batch")
async def run_work_item_batch_operation(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    workspace = workspace_of(request)
    answer, changed_runs = workspace.run_batch_operation(body)
    for run_id in changed_runs:
        served_of(request).callbacks.resume(workspace.runs[run_id])  # a new outcome to deliver
    return json_response(answer)


@routes.get(ITEMS + "/{item}")
async def get_work_item(request: web.Request) -> web.Response:
    item_id = request.match_info["item"]
    return json_response(workspace_of(request).get_work_item(item_id, str(origin(request))))


# `.../files` answers `{"upload": {url, form_data}}` (the generated docs); `.../files/upload`
# answers `{url, form_data}` (the 2023-10-19 document).
@routes.post(ITEMS + "/{item}/files")
@routes.post(ITEMS + "/{item}/files/upload")
async def create_work_item_file(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    limit = request.app[CONTEXT].limits.max_upload_size
    if isinstance(body, dict) and is_number(body.get("file_size")) and body["file_size"] > limit:
        # 400, not 413: the schema of this operation has no 413; and before the file is sent.
        raise bad_request(too_large(limit).message)
    upload = workspace_of(request).create_work_item_file(
        request.match_info["item"], body, str(origin(request))
    )
    return json_response(upload if request.path.endswith("/upload") else {"upload": upload})


# PUT in the 2023-10-19 OpenAPI document; POST in the generated docs.
@routes.post(ITEMS + "/{item}/payload")
@routes.put(ITEMS + "/{item}/payload")
async def update_work_item_payload(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    item_id = request.match_info["item"]
    return json_response(workspace_of(request).update_work_item_payload(item_id, body))

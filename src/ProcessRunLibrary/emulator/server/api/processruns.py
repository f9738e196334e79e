"""Routes of the Control Room API for processes, process runs and their outputs."""

from __future__ import annotations

from aiohttp import web

from ...common import bad_request, not_found
from ...runs import facts_json
from ..web import (
    ANSWERS,
    API_PREFIX,
    WS,
    decode_cursor,
    encoded_page_response,
    encoded_response,
    json_response,
    key_in_query,
    optional,
    origin,
    page_limit,
    paged,
    read_json,
    served_of,
    with_cors,
    workspace_of,
)

routes = web.RouteTableDef()
RUNS = f"{API_PREFIX}{WS}/process-runs"


@routes.get(RUNS)
async def list_process_runs(request: web.Request) -> web.Response:
    process_id, state = optional(request, "process_id"), optional(request, "state")
    limit, cursor = page_limit(request), decode_cursor(request, "runs")
    facts, cursor = workspace_of(request).list_run_facts(process_id, state, limit, cursor)
    items = [ANSWERS.body(f, facts_json) for f in facts]
    return encoded_page_response(request, "runs", items, cursor, limit)


@routes.get(RUNS + "/{run}")
async def get_process_run(request: web.Request) -> web.Response:
    facts = workspace_of(request).get_run_facts(request.match_info["run"])
    return encoded_response(ANSWERS.body(facts, facts_json))


@routes.delete(RUNS + "/{run}")
@with_cors
async def delete_process_run(request: web.Request) -> web.Response:
    return json_response(workspace_of(request).delete_run(request.match_info["run"]))


@routes.post(RUNS + "/{run}/stop")
async def stop_process_run(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    answer = workspace_of(request).stop_run(request.match_info["run"], body)
    served_of(request).callbacks.wake(request.match_info["run"])  # its end moved
    return json_response(answer)


def _outputs(request: web.Request, run_id: str | None) -> web.Response:
    if not run_id:
        raise bad_request("'process_run_id' is required.")
    base = str(origin(request))
    return paged(
        request, "outputs", lambda ws, limit, cursor: ws.list_outputs(run_id, limit, cursor, base)
    )


@routes.get(f"{API_PREFIX}{WS}/outputs")
@with_cors
async def list_outputs(request: web.Request) -> web.Response:
    return _outputs(request, optional(request, "process_run_id"))


# The path of the 2023-10-19 OpenAPI document; the seed moved it to /outputs.
@routes.get(RUNS + "/{run}/outputs")
@with_cors
async def list_outputs_old_path(request: web.Request) -> web.Response:
    return _outputs(request, request.match_info["run"])


@routes.post(f"{API_PREFIX}{WS}/processes/{{process}}/process-runs")
@with_cors
async def start_process_run(request: web.Request) -> web.Response:
    body = await read_json(request, required=False)
    workspace = workspace_of(request)
    answer = workspace.start_run(request.match_info["process"], body)
    if answer["started"]:
        served_of(request).callbacks.watch(workspace.runs[answer["id"]])  # no-op without callback
    return json_response(answer)


@routes.post(f"{API_PREFIX}{WS}/processes/{{process}}/process-runs-integrations")
@with_cors
@key_in_query
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


@routes.get(f"{API_PREFIX}{WS}/processes")
async def list_processes(request: web.Request) -> web.Response:
    return paged(request, "processes", lambda ws, limit, cursor: ws.list_processes(limit, cursor))

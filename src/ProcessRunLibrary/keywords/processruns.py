from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robot.api import logger
from robot.api.deco import keyword

from ..errors import InvalidArgument, ProcessRunNotStarted
from ..returns import ProcessRun, ProcessRunOutput
from ..text import counted, printable
from ..types import (
    CallbackEvent,
    Id,
    ProcessRunState,
    Secret,
    api_url_argument,
    boolean,
    id_list,
    json_payload,
    non_empty,
    positive_int,
    reveal,
    shown,
)
from .context import LibraryComponent, found

if TYPE_CHECKING:
    from ..client import ControlRoomClient

START_MODES = ("payload", "payloads", "work_item_ids", "use_input_queue")


def start_request_body(
    payload: Any = None,
    payloads: Any = None,
    work_item_ids: Any = None,
    use_input_queue: bool = False,
    callback_url: str | None = None,
    callback_secret: Any = None,
    callback_events: Any = None,
) -> dict[str, Any] | None:
    """The body of a start request, validated; ``None`` starts with the default item."""
    boolean("use_input_queue", use_input_queue)
    given = dict(zip(START_MODES, (payload, payloads, work_item_ids, use_input_queue), strict=True))
    modes = [name for name, value in given.items() if value is not None and value is not False]
    if len(modes) > 1:
        raise InvalidArgument(
            f"Arguments {' and '.join(repr(m) for m in modes)} cannot be used together: "
            "give at most one of 'payload', 'payloads', 'work_item_ids' and 'use_input_queue'."
        )
    body: dict[str, Any] = {}
    if payload is not None:
        body = {"type": "with_payloads", "payloads": [json_payload("payload", payload)]}
    elif payloads is not None:
        items = json_payload("payloads", payloads)
        if not isinstance(items, list) or not items:
            raise InvalidArgument(
                f"Argument 'payloads' must be a non-empty list of payloads, got {payloads!r}."
            )
        body = {"type": "with_payloads", "payloads": items}
    elif work_item_ids is not None:
        ids = id_list("work_item_ids", work_item_ids)
        body = {"type": "with_work_item_ids", "work_item_ids": ids}
    elif use_input_queue:
        body = {"type": "with_inputs"}
    callback = _callback(callback_url, callback_secret, callback_events)
    if callback:
        body["callback"] = callback
    return body or None


def _callback(url: str | None, secret: Any, events: Any) -> dict[str, Any] | None:
    secret = reveal(secret)
    if url is None:
        for name, value in (("callback_secret", secret), ("callback_events", events)):
            if value is not None:
                raise InvalidArgument(f"Argument '{name}' needs 'callback_url'.")
        return None
    try:
        api_url_argument(url)
    except InvalidArgument:
        raise InvalidArgument(
            f"Argument 'callback_url' must be an http:// or https:// URL, got {shown(url)}."
        ) from None
    if not secret:
        raise InvalidArgument(
            "Argument 'callback_url' needs 'callback_secret': Control Room signs callbacks with it."
        )
    from ..masking import register

    register(secret)
    chosen = (
        list(CallbackEvent)
        if events is None
        else [CallbackEvent(e) if isinstance(e, str) else e for e in events]
    )
    if not chosen:
        raise InvalidArgument("Argument 'callback_events' must not be empty.")
    return {"url": url, "secret": secret, "callback_events": [e.value for e in chosen]}


class ProcessRunKeywords(LibraryComponent):
    @keyword
    def start_process_run(
        self,
        process_id: Id,
        payload: Any = None,
        payloads: list[Any] | str | None = None,
        work_item_ids: list[str] | None = None,
        use_input_queue: bool = False,
        callback_url: str | None = None,
        callback_secret: str | Secret | None = None,
        callback_events: list[CallbackEvent] = None,
        alias: str | None = None,
    ) -> str:
        """Starts a run of the process ``process_id`` and returns the new run's id.

        What the run processes, at most one of:
        | = Argument =            | = The run gets =                                               |
        | (none of these)         | The process's default work item, or an empty one. The request has no body. |
        | ``payload``             | One input work item with this payload.                          |
        | ``payloads``            | One input work item per payload in this list.                   |
        | ``work_item_ids``       | These existing work items.                                      |
        | ``use_input_queue=True`` | The work items waiting in the process's input queue.            |

        A payload is a dictionary, a list, or a string holding JSON.

        ``callback_url`` makes Control Room call that URL on the run's events;
        it needs ``callback_secret``. ``callback_events`` is a list of
        `CallbackEvent` values and defaults to all three.

        Fails when two of the modes above are given, when a payload is not JSON, when
        Control Room refuses the request, or when it starts no run (with
        ``use_input_queue=True`` and an empty input queue). The start request is never
        repeated in a way that could start two runs: see `Retries`.

        Examples:
        | ${id} = | Start Process Run | ${PROCESS} |
        | ${id} = | Start Process Run | ${PROCESS} | payload={"order": 42} |
        | ${id} = | Start Process Run | ${PROCESS} | payloads=${ORDERS} |
        | ${id} = | Start Process Run | ${PROCESS} | use_input_queue=True |
        | ${id} = | Start Process Run | ${PROCESS} | callback_url=https://example.com/hook | callback_secret=${HOOK_SECRET} |
        """
        non_empty("process_id", process_id)
        body = start_request_body(
            payload,
            payloads,
            work_item_ids,
            use_input_queue,
            callback_url,
            callback_secret,
            callback_events,
        )
        return start_run(self.ctx.client(alias), process_id, body)

    @keyword
    def start_process_run_for_integration(
        self,
        process_id: Id,
        payload: Any,
        with_handshake: str | None = None,
        token: str | Secret | None = None,
        alias: str | None = None,
    ) -> str:
        """Starts a run through the integrations endpoint and returns the run's id.

        This is the endpoint that webhooks of other systems call: the whole
        ``payload`` (a dictionary, a list, or a string holding JSON) becomes the run's
        input work item, and the API key travels as the ``token`` query parameter
        instead of a header. ``token`` defaults to the session's API key. The
        ``token`` is masked in every log line and error message.

        ``with_handshake`` may only be ``asana``: Control Room then supports Asana's
        webhook handshake on this URL.

        Examples:
        | ${id} = | Start Process Run For Integration | ${PROCESS} | {"event": "created"} |
        | ${id} = | Start Process Run For Integration | ${PROCESS} | ${EVENT} | with_handshake=asana |
        """
        non_empty("process_id", process_id)
        body = json_payload("payload", payload)
        if with_handshake is not None and with_handshake != "asana":
            raise InvalidArgument(
                f"Argument 'with_handshake' must be 'asana' or not given, got '{with_handshake}'."
            )
        token = reveal(token)
        if token is not None:
            non_empty("token", token)
        client = self.ctx.client(alias)
        answer = client.start_process_run_for_integration(
            process_id, body, token or client.credentials.secret, with_handshake
        )
        return _started(process_id, answer, {"type": "integration"})

    @keyword
    def get_process_run(self, process_run_id: Id, alias: str | None = None) -> ProcessRun:
        """Returns the process run ``process_run_id``.

        The run is a dictionary with dot access: ``${run.state}`` and
        ``${run}[state]`` both work. Its fields: ``id``, ``state`` (see
        `ProcessRunState`), ``created_at``, ``started_at``, ``ended_at``,
        ``duration`` (seconds, empty until the run ends), ``process`` (``id``,
        ``name``) and ``started_by``.

        Fails when the run does not exist (HTTP 404).

        Examples:
        | ${run} = | Get Process Run | ${id} |
        | Should Be Equal | ${run.state} | completed |
        | Log | ${run.process.name} took ${run.duration} seconds |
        """
        # JsonDicts as parsed (client.answers): nothing to convert.
        return self.ctx.client(alias).get_process_run(process_run_id)

    @keyword
    def get_process_run_state(self, process_run_id: Id, alias: str | None = None) -> str:
        """Returns the state of the process run ``process_run_id``, for example ``in_progress``.

        The states are listed in `ProcessRunState`. To wait for a state, use
        `Wait Until Process Run Completes`; to assert one, `Process Run State Should Be`.

        Examples:
        | ${state} = | Get Process Run State | ${id} |
        """
        return str(self.ctx.client(alias).get_process_run(process_run_id)["state"])

    @keyword
    def list_process_runs(
        self,
        process_id: str | None = None,
        state: ProcessRunState = None,
        limit: int | None = None,
        alias: str | None = None,
    ) -> list[ProcessRun]:
        """Returns the workspace's process runs, newest first, following every page.

        ``process_id`` keeps the runs of one process, ``state`` the runs in one
        `ProcessRunState`. ``limit`` returns at most that many runs and is also sent
        as the page size; without it every page is read, which can take many
        requests in a busy workspace.

        Examples:
        | ${runs} = | List Process Runs | process_id=${PROCESS} | state=unresolved |
        | ${latest} = | List Process Runs | process_id=${PROCESS} | limit=1 |
        | Length Should Be | ${latest} | 1 |
        """
        if process_id is not None:
            non_empty("process_id", process_id)
        positive_int("limit", limit)
        runs = self.ctx.client(alias).list_process_runs(
            process_id, state.value if state else None, limit
        )
        return found(runs, "process run")

    @keyword
    def list_process_run_outputs(
        self, process_run_id: Id, limit: int | None = None, alias: str | None = None
    ) -> list[ProcessRunOutput]:
        """Returns the outputs of the process run ``process_run_id``, following every page.

        Each output has ``id``, ``created_at``, ``payload`` (any JSON) and ``files``
        (each with ``name``, ``size`` and ``download.url``; a download URL is valid
        for one hour). ``limit`` returns at most that many outputs and is sent as the
        page size.

        Examples:
        | ${outputs} = | List Process Run Outputs | ${id} |
        | Should Be Equal | ${outputs}[0][payload][status] | shipped |
        """
        positive_int("limit", limit)
        outputs = self.ctx.client(alias).list_outputs(process_run_id, limit)
        return found(outputs, "output")

    @keyword
    def stop_process_run(
        self,
        process_run_id: Id,
        set_remaining_work_items_as_done: bool = False,
        terminate_ongoing_activity_runs: bool = False,
        reason: str | None = None,
        alias: str | None = None,
    ) -> bool:
        """Asks Control Room to stop the process run; returns ``True`` when it accepted.

        The run goes to ``stopping`` and then ends. With
        ``set_remaining_work_items_as_done=True`` its remaining work items are marked
        done, otherwise they fail. ``terminate_ongoing_activity_runs=True`` also
        stops the steps that are running now. ``reason`` is shown in Control Room.

        Returns ``False`` when Control Room did not accept the stop, typically because
        the run had already ended. Fails when the run does not exist.

        Examples:
        | Stop Process Run | ${id} | reason=Cancelled by the nightly robot |
        | ${accepted} = | Stop Process Run | ${id} | set_remaining_work_items_as_done=True |
        """
        answer = self.ctx.client(alias).stop_process_run(
            process_run_id,
            boolean("set_remaining_work_items_as_done", set_remaining_work_items_as_done),
            boolean("terminate_ongoing_activity_runs", terminate_ongoing_activity_runs),
            reason,
        )
        accepted = bool(answer.get("accepted"))
        if accepted:
            logger.info(f"Control Room accepted the stop of process run {process_run_id}.")
        else:
            logger.info(
                f"Control Room did not accept the stop of process run {process_run_id}; "
                "it may have ended already."
            )
        return accepted

    @keyword
    def delete_process_run(self, process_run_id: Id, alias: str | None = None) -> None:
        """Deletes the process run ``process_run_id``. This cannot be undone.

        Control Room refuses to delete a run that has not ended (HTTP 409): stop it
        and wait for it first. Fails when the run does not exist.

        Examples:
        | Wait Until Process Run Completes | ${id} |
        | Delete Process Run | ${id} |
        """
        self.ctx.client(alias).delete_process_run(process_run_id)
        logger.info(f"Deleted process run {process_run_id}.")


def start_run(client: ControlRoomClient, process_id: str, body: dict[str, Any] | None) -> str:
    """Start a run with a checked ``body`` (see :func:`start_request_body`); return its id.
    The one start of `Start Process Run` and `Start Process Run And Wait`."""
    return _started(process_id, client.start_process_run(process_id, body), body)


def _started(process_id: str, answer: Any, body: dict[str, Any] | None) -> str:
    if answer.get("started") and not answer.get("id"):
        raise ProcessRunNotStarted(
            f"Control Room answered that a run of process '{process_id}' was started, "
            f"but gave no id: {printable(repr(answer))}."
        )
    if not answer.get("started"):
        why = (
            "its input queue has no work items waiting"
            if body and body.get("type") == "with_inputs"
            else f"Control Room answered {printable(repr(answer))}"
        )
        raise ProcessRunNotStarted(f"No process run of process '{process_id}' was started: {why}.")
    run_id = str(answer["id"])
    logger.info(f"Started process run {run_id} of process '{process_id}'{_what(body)}.")
    return run_id


def _what(body: dict[str, Any] | None) -> str:
    if not body:
        return " with its default work item"
    kind = body.get("type")
    if kind == "with_payloads":
        count = len(body["payloads"])
        return f" with {counted(count, 'payload')}"
    if kind == "with_work_item_ids":
        return f" with {len(body['work_item_ids'])} existing work item(s)"
    if kind == "with_inputs":
        return " with the work items of its input queue"
    if kind == "integration":
        return " through the integrations endpoint"
    return ""

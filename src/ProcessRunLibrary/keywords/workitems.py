"""Work items: create input items with files, list, read, update, retry, mark done, delete."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from robot.api import logger
from robot.api.deco import keyword

from ..errors import ControlRoomError, InvalidArgument
from ..text import counted, listed, printable
from ..types import (
    Id,
    WorkItemState,
    id_list,
    json_payload,
    path_segment,
    positive_int,
    shown,
)
from .context import LibraryComponent, found

if TYPE_CHECKING:
    from ..client import ControlRoomClient
    from ..client.uploads import UploadFile

_DONE = {"retry": "retry", "mark_as_done": "marking as done", "delete": "deletion"}


class WorkItemKeywords(LibraryComponent):
    @keyword
    def create_input_work_item(
        self,
        process_id: Id,
        payload: Any = None,
        files: str | list[str] | None = None,
        alias: str | None = None,
    ) -> str:
        """Creates a work item in the input queue of process ``process_id``; returns its id.

        ``payload`` is a dictionary, a list, or a string holding JSON; without it the
        item gets an empty payload ``{}``. ``files`` is the path of a file or a list of
        paths: each file is attached to the item under its base name. The item then
        waits in the process's input queue until a run takes it: start one with
        `Start Process Run` and ``use_input_queue=True`` (every waiting item), or
        ``work_item_ids=${ids}`` (these items).

        Every file is checked before any request is sent: it must exist, be a regular
        file (not a directory, named pipe, socket or device) and be readable, and two
        files cannot have the same base name. Each file is opened once, by that check,
        and read through that handle only: a file renamed, deleted or replaced after
        the check is still sent as it was checked. Then the item is created, and each
        file is announced to Control Room with its size and uploaded to the presigned
        URL it answers, streamed from disk, without the session's API key. The upload
        URL and its form fields are masked in every log line and message.

        Fails when an argument is wrong, when Control Room refuses the item, or when a
        file cannot be uploaded: refused by the server, or changed while it is sent (it
        no longer has the size it had when checked, or cannot be read). When a file
        fails, the item is deleted, so that no run takes it without its files, and the
        message says so. It says the item was deleted only when Control Room accepted
        the deletion; otherwise it says that the item waits in the input queue.

        Examples:
        | ${id} = | Create Input Work Item | ${PROCESS} | {"order": 42} |
        | ${id} = | Create Input Work Item | ${PROCESS} | ${ORDER} | files=${CURDIR}/invoice.pdf |
        | @{files} = | Create List | invoice.pdf | receipt.png |
        | ${id} = | Create Input Work Item | ${PROCESS} | files=${files} |
        | ${run} = | Start Process Run And Wait | ${PROCESS} | use_input_queue=True |
        """
        from ..client.uploads import upload_files

        path_segment("process_id", process_id)
        body = {} if payload is None else json_payload("payload", payload)
        if files is None:
            paths: list[Any] = []
        elif isinstance(files, (str, os.PathLike)):
            paths = [files]
        elif isinstance(files, (list, tuple)):
            paths = list(files)
        else:
            raise InvalidArgument(
                f"Argument 'files' must be a path or a list of paths, got {shown(files)}."
            )
        checked = upload_files("files", paths)
        try:
            client = self.ctx.client(alias)
            item = client.create_work_item(process_id, body)
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str) or not item_id:
                raise ControlRoomError(
                    "POST", "/work-items", f"the answer has no work item id: {shown(item)}."
                )
            for file in checked:
                self._upload(client, item_id, file)
        finally:
            for file in checked:
                file.close()
        attached = f" with {counted(len(checked), 'file')}" if checked else ""
        logger.info(
            f"Created work item {item_id}{attached} in the input queue of process '{process_id}'."
        )
        return item_id

    def _upload(self, client: ControlRoomClient, item_id: str, file: UploadFile) -> None:
        from ..client.uploads import FileChanged

        try:
            client.add_work_item_file(item_id, file)
        except FileChanged as error:
            raise FileChanged(
                f"{error} File '{file.name}' of work item {item_id} was not uploaded. "
                f"{_delete_unfinished(client, item_id)}"
            ) from None
        except ControlRoomError as error:
            raise ControlRoomError(
                error.method,
                error.path,
                f"{str(error).split(' failed: ', 1)[-1]} File '{file.name}' of work item "
                f"{item_id} was not uploaded. {_delete_unfinished(client, item_id)}",
                status=error.status,
                code=error.code,
                detail=error.detail,
            ) from None

    @keyword
    def list_work_items(
        self,
        process_id: str | None = None,
        process_run_id: str | None = None,
        state: WorkItemState = None,
        limit: int | None = None,
        alias: str | None = None,
    ) -> list[Any]:
        """Returns work items, filtered by Control Room, following every page.

        ``process_id`` keeps the items of one process, ``process_run_id`` the items
        of one run, ``state`` the items in one `WorkItemState`; they combine. Without
        any, every work item of the workspace is listed. ``limit`` returns at most that
        many items and is also sent as the page size.

        Each item is a dictionary with dot access: ``id``, ``state``, ``created_at``,
        ``state_updated_at``, ``process`` (``id``), ``process_run``, ``step`` and
        ``step_run`` (each ``id`` or empty), and ``exception`` (``type``, ``code``,
        ``message`` of a failed item, else empty). A listing has no payloads or files:
        `Get Work Item` reads them.

        Examples:
        | ${failed} = | List Work Items | process_run_id=${run id} | state=failed |
        | ${queued} = | List Work Items | process_id=${PROCESS} | state=new |
        | Log | ${failed}[0][exception][message] |
        """
        positive_int("limit", limit)
        items = self.ctx.client(alias).list_work_items(
            process_id, process_run_id, state.value if state else None, limit
        )
        return found(items, "work item")

    @keyword
    def get_work_item(self, work_item_id: Id, alias: str | None = None) -> Any:
        """Returns the work item ``work_item_id`` with its payload and files.

        The fields of `List Work Items`, and ``payload`` (any JSON) and ``files``
        (each with ``id``, ``name``, ``size`` and ``download.url``; a download URL is
        valid for one hour and is masked in the log).

        Fails when the work item does not exist (HTTP 404).

        Examples:
        | ${item} = | Get Work Item | ${id} |
        | Should Be Equal | ${item.payload.order} | ${42} |
        | Should Be Equal | ${item.files}[0][name] | invoice.pdf |
        """
        return self.ctx.client(alias).get_work_item(work_item_id)

    @keyword
    def update_work_item_payload(
        self, work_item_id: Id, payload: Any, alias: str | None = None
    ) -> None:
        """Replaces the payload of the work item ``work_item_id`` with ``payload``.

        ``payload`` is a dictionary, a list, or a string holding JSON; ``${None}`` is
        refused, so that a missing value does not wipe a payload (give the string
        ``null`` to set it to JSON null). The usual use: fix the payload of a failed
        item, then `Retry Work Items`.

        Examples:
        | ${item} = | Get Work Item | ${id} |
        | Set To Dictionary | ${item.payload} | customer | ACME |
        | Update Work Item Payload | ${id} | ${item.payload} |
        | Retry Work Items | ${{[$id]}} |
        """
        path_segment("work_item_id", work_item_id)
        if payload is None:
            raise InvalidArgument(
                "Argument 'payload' must be a dictionary, a list or a string holding JSON, "
                "got None."
            )
        self.ctx.client(alias).update_work_item_payload(
            work_item_id, json_payload("payload", payload)
        )
        logger.info(f"Updated the payload of work item {work_item_id}.")

    @keyword
    def retry_work_items(self, work_item_ids: list[Any], alias: str | None = None) -> None:
        """Retries the failed work items ``work_item_ids``.

        ``work_item_ids`` is a non-empty list of work item ids, or of work items as
        `List Work Items` returns them. Control Room processes the items again in
        their process run: an ``unresolved`` run goes back in progress and becomes
        ``completed`` when every failed item has been retried successfully or marked
        done. Wait for it with `Wait Until Process Run Completes`.

        Examples:
        | ${failed} = | List Work Items | process_run_id=${run id} | state=failed |
        | Retry Work Items | ${failed} |
        | ${run} = | Wait Until Process Run Completes | ${run id} |
        """
        self._batch("retry", work_item_ids, alias)

    @keyword
    def mark_work_items_done(self, work_item_ids: list[Any], alias: str | None = None) -> None:
        """Marks the failed work items ``work_item_ids`` as done without processing them.

        ``work_item_ids`` is as in `Retry Work Items`. An ``unresolved`` run becomes
        ``completed`` once no failed item is left.

        Examples:
        | ${failed} = | List Work Items | process_run_id=${run id} | state=failed |
        | Mark Work Items Done | ${failed} |
        """
        self._batch("mark_as_done", work_item_ids, alias)

    @keyword
    def delete_work_items(self, work_item_ids: list[Any], alias: str | None = None) -> None:
        """Deletes the work items ``work_item_ids``. This cannot be undone.

        ``work_item_ids`` is as in `Retry Work Items`. Use it, for example, to empty a
        process's input queue.

        Examples:
        | ${queued} = | List Work Items | process_id=${PROCESS} | state=new |
        | Delete Work Items | ${queued} |
        """
        self._batch("delete", work_item_ids, alias)

    def _batch(self, operation: str, work_item_ids: Any, alias: str | None) -> None:
        if isinstance(work_item_ids, (list, tuple)):
            work_item_ids = [
                i.get("id") if isinstance(i, Mapping) and "id" in i else i for i in work_item_ids
            ]
        ids = id_list("work_item_ids", work_item_ids)
        answer = self.ctx.client(alias).work_item_batch(operation, ids)
        what = f"{counted(len(ids), 'work item')} ({listed(ids)})"
        if not (isinstance(answer, dict) and answer.get("accepted") is True):
            raise ControlRoomError(
                "POST",
                "/work-items/batch",
                f"Control Room did not accept the {_DONE[operation]} of {what}: {printable(repr(answer))}.",
            )
        logger.info(f"Control Room accepted the {_DONE[operation]} of {what}.")


def _delete_unfinished(client: ControlRoomClient, item_id: str) -> str:
    """Delete a work item whose files did not all arrive, so that no run takes it; say
    what became of it. Deleted means Control Room said ``accepted: true``."""
    try:
        answer = client.work_item_batch("delete", [item_id])
    except ControlRoomError as error:
        return f"The work item could not be deleted and waits in the input queue: {error}"
    if isinstance(answer, dict) and answer.get("accepted") is True:
        return "The work item was deleted, so that no run takes it without its files."
    return (
        "The work item could not be deleted and waits in the input queue: Control Room "
        "did not accept its deletion."
    )

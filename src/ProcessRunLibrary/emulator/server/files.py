"""The presigned-style URLs, as Control Room's S3 URLs work: no Authorization header.

- An upload is a multipart POST with the form fields that createWorkItemFile gave,
  unchanged, and the file last, named `file` (204 on success). The file is written to the
  workspace's spool (spool.py) as it arrives, at most `--max-upload-size` bytes (413
  beyond), and stays there: memory holds its path and size only.
- A download URL is signed and expires: a work item file (streamed from disk), a file of a
  process run's outputs, a step run artifact (streamed in chunks).

All are in the request log with their full path (middleware.py: FILES and SIGNED)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import IO, Any

from aiohttp import BodyPartReader, web

from ..common import ApiError, bad_request, not_found
from ..requestlog import MASK
from ..spool import CHUNK as DISK_CHUNK
from ..spool import Incoming
from ..workitems import DOWNLOAD_PATH, UPLOAD_PATH
from .api.stepruns import robot_files_ready
from .web import ADMIN_PREFIX, CONTEXT, LOG_ENTRY, SERVED, UPLOAD, attachment

routes = web.RouteTableDef()
CHUNK = 64 * 1024
MAX_FORM_FIELDS = 16


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "request_entity_too_large",
        f"The file is larger than the emulator's upload limit of {limit} bytes "
        "(--max-upload-size).",
    )


@routes.post(UPLOAD_PATH)
async def upload(request: web.Request) -> web.Response:
    if not request.content_type.startswith("multipart/form-data"):
        raise bad_request("An upload must be a multipart/form-data POST.")
    file_id = request.match_info["id"]
    workspace = request.app[CONTEXT].holding(lambda w: file_id in w.item_files)
    with workspace.spool.receiving() as incoming:
        try:
            return await _upload(request, workspace, incoming)
        except (ValueError, AssertionError, KeyError) as error:  # aiohttp's multipart parser
            raise bad_request(f"The upload is not valid multipart/form-data: {error}") from None


async def _upload(request: web.Request, workspace: Any, incoming: Incoming) -> web.Response:
    ctx = request.app[CONTEXT]
    file_id = request.match_info["id"]
    spooled = incoming.file
    reader = await request.multipart()
    fields: dict[str, str] = {}
    size: int | None = None
    file_name = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise bad_request("The upload has a nested multipart part.")
        if size is not None:
            raise bad_request("The file must be the last part of the upload.")
        if part.name == "file":
            # The fields before the file decide whether it is taken at all.
            file = workspace.check_upload(file_id, fields)
            file_name = part.filename
            size = await _spool(part, spooled, file.size, ctx.limits.max_upload_size)
        elif part.name is None:
            raise bad_request("Every part of the upload needs a name.")
        elif part.name in fields:
            raise bad_request(f"The form field '{part.name}' is given twice.")
        elif len(fields) == MAX_FORM_FIELDS:
            raise bad_request(f"The upload has more than {MAX_FORM_FIELDS} form fields.")
        else:
            fields[part.name] = await _text(part)
    request[UPLOAD] = _logged_form(fields, file_name, size)
    if size is None:
        workspace.check_upload(file_id, fields)  # a missing field or signature first
        raise bad_request("The upload has no part named 'file'.")
    workspace.store_upload(file, incoming)
    return web.Response(status=204)


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data.extend(chunk)
        if len(data) > CHUNK:
            raise bad_request(f"The form field '{part.name}' is too long.")
    return data.decode("utf-8", errors="replace")


async def _spool(part: BodyPartReader, spooled: IO[bytes], announced: int, limit: int) -> int:
    """Write the part to `spooled`; past `announced` bytes 400, past `limit` 413 (the rest
    is not read)."""
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        if size > announced:
            raise bad_request(
                f"The file has more than the {announced} bytes createWorkItemFile announced."
            )
        spooled.write(chunk)
    return size


def _logged_form(fields: dict[str, str], file_name: str | None, size: int | None) -> Any:
    form = {k: (MASK if k == "signature" else v) for k, v in fields.items()}
    file = None if size is None else {"filename": file_name, "size": size}
    return {"form_data": form, "file": file}


@routes.get(DOWNLOAD_PATH)
async def download(request: web.Request) -> web.StreamResponse:
    """A work item file, streamed from disk: opened before the first await, so a delete
    while it is sent does not cut it short."""
    file_id = request.match_info["id"]
    workspace = request.app[CONTEXT].holding(lambda w: file_id in w.item_files)
    file = workspace.downloadable(file_id, request.query)
    assert file.stored is not None
    try:
        opened = file.stored.open()
    except FileNotFoundError:
        raise not_found(f"File '{file_id}' not found.") from None
    with opened:
        return await _stream(request, file.name, file.stored.size, _read_chunks(opened))


@routes.get(ADMIN_PREFIX + "/files/{id}")
async def download_file(request: web.Request) -> web.Response:
    """A file of a process run's outputs."""
    file_id = request.match_info["id"]
    file = request.app[CONTEXT].holding(lambda w: file_id in w.files).files.get(file_id)
    if file is None:
        raise not_found(f"File '{request.match_info['id']}' not found.")
    return _attachment(file.content, file.name)


def _attachment(content: bytes, name: str) -> web.Response:
    return web.Response(
        body=content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": attachment(name)},
    )


@routes.get(ADMIN_PREFIX + "/workspaces/{ws}/step-runs/{step_run}/artifacts/{artifact}")
async def download_artifact(request: web.Request) -> web.StreamResponse:
    """A step run artifact, streamed in chunks (a large one is never whole in memory)."""
    served = request.app[CONTEXT].served.get(request.match_info["ws"])
    if served is None:
        raise not_found(f"Workspace '{request.match_info['ws']}' not found.")
    request[SERVED] = served
    await robot_files_ready(request)
    name, size, chunks = served.workspace.artifact_content(
        request.match_info["step_run"], request.match_info["artifact"]
    )
    return await _stream(request, name, size, _each(chunks))


async def _stream(request: web.Request, name: str, size: int, chunks: Any) -> web.StreamResponse:
    """Send `size` bytes of `chunks` (an async iterator) as an attachment, with the headers
    of _attachment() and Content-Length: never whole in memory."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": attachment(name),
        }
    )
    response.content_length = size
    if LOG_ENTRY in request:  # middleware.py's: logged before the client has every byte
        request[LOG_ENTRY]["status"] = response.status
    await response.prepare(request)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


async def _read_chunks(opened: IO[bytes]) -> Any:
    """The file's bytes, read off the event loop (a disk may be slow)."""
    while chunk := await asyncio.to_thread(opened.read, DISK_CHUNK):
        yield chunk


async def _each(chunks: Iterator[bytes]) -> Any:
    for chunk in chunks:
        yield chunk

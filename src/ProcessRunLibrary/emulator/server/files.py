"""The presigned-style URLs, as Control Room's S3 URLs work: no Authorization header.

- An upload is a multipart POST with the form fields that createWorkItemFile gave,
  unchanged, and the file last, named `file` (204 on success). The file is spooled to
  disk as it arrives, at most `--max-upload-size` bytes (413 beyond).
- A download URL is signed and expires: a work item file, a file of a process run's
  outputs, a step run artifact (streamed in chunks).

All are in the request log with their full path (middleware.py: FILES and SIGNED)."""

from __future__ import annotations

from typing import IO, Any

from aiohttp import BodyPartReader, web

from ..common import ApiError, bad_request, not_found
from ..requestlog import MASK
from ..workitems import DOWNLOAD_PATH, UPLOAD_PATH
from .api.stepruns import robot_files_ready
from .web import ADMIN_PREFIX, CONTEXT, SERVED, attachment

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
    with request.app[CONTEXT].spool.new_file() as spooled:
        try:
            return await _upload(request, spooled)
        except (ValueError, AssertionError, KeyError) as error:  # aiohttp's multipart parser
            raise bad_request(f"The upload is not valid multipart/form-data: {error}") from None


async def _upload(request: web.Request, spooled: IO[bytes]) -> web.Response:
    ctx = request.app[CONTEXT]
    file_id = request.match_info["id"]
    workspace = ctx.holding(lambda w: file_id in w.item_files)
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
    request["upload"] = _logged_form(fields, file_name, size)
    if size is None:
        workspace.check_upload(file_id, fields)  # a missing field or signature first
        raise bad_request("The upload has no part named 'file'.")
    spooled.seek(0)
    workspace.store_upload(file, spooled.read())
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
async def download(request: web.Request) -> web.Response:
    file_id = request.match_info["id"]
    workspace = request.app[CONTEXT].holding(lambda w: file_id in w.item_files)
    file = workspace.downloadable(file_id, request.query)
    return _attachment(file.content or b"", file.name)


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

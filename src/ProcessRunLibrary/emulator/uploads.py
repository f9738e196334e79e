"""The upload and download URLs of work item files, as Control Room's presigned S3 URLs
work: no Authorization header; an upload is a multipart POST with the form fields that
createWorkItemFile gave, unchanged, and the file last, named `file` (204 on success); a
download URL is signed and expires. Both are in the request log, with their full path, and
fault rules apply to them."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from .app import CONTEXT, FAULT_HEADER, Handler, apply_fault, error_response
from .common import ApiError, bad_request
from .requestlog import MASK
from .workitems import DOWNLOAD_PATH, UPLOAD_PATH

CHUNK = 64 * 1024


def logged(handler: Handler) -> Handler:
    """Record the request in the request log (without its body), apply fault rules as to
    API requests (matched against the full path, e.g. `^/_emulator/uploads/`), answer
    errors as JSON."""

    async def respond(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error)

    async def wrapper(request: web.Request) -> web.StreamResponse:
        ctx = request.app[CONTEXT]
        entry = ctx.log.record(request.method, request.path, request.query, request.headers, b"")
        started = time.perf_counter()
        try:
            rule = ctx.faults.pick(request.method, request.path)
            if rule is None:
                response = await respond(request)
            else:
                entry["fault"] = rule.id
                response = await apply_fault(
                    request, handler, rule, respond=lambda: respond(request)
                )
                response.headers[FAULT_HEADER] = rule.id
        finally:
            entry["duration"] = round(time.perf_counter() - started, 6)
            if "upload" in request:
                entry["body"] = request["upload"]
        entry["status"] = response.status
        return response

    return wrapper


async def _text(part: BodyPartReader) -> str:
    raw = await _read_at_most(part, CHUNK, f"The form field '{part.name}' is too long.")
    return raw.decode("utf-8", errors="replace")


@logged
async def upload(request: web.Request) -> web.Response:
    if not request.content_type.startswith("multipart/form-data"):
        raise bad_request("An upload must be a multipart/form-data POST.")
    try:
        return await _upload(request)
    except (ValueError, AssertionError, KeyError) as error:  # aiohttp's multipart parser
        raise bad_request(f"The upload is not valid multipart/form-data: {error}") from None


async def _upload(request: web.Request) -> web.Response:
    file_id = request.match_info["id"]
    workspace = request.app[CONTEXT].holding(lambda w: file_id in w.item_files)
    reader = await request.multipart()
    fields: dict[str, str] = {}
    content: bytes | None = None
    file_name = None
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise bad_request("The upload has a nested multipart part.")
        if content is not None:
            raise bad_request("The file must be the last part of the upload.")
        if part.name == "file":
            # The fields before the file decide whether it is taken at all.
            file = workspace.check_upload(file_id, fields)
            file_name = part.filename
            content = await _read_at_most(
                part,
                file.size,
                f"The file has more than the {file.size} bytes createWorkItemFile announced.",
            )
        elif part.name is None:
            raise bad_request("Every part of the upload needs a name.")
        elif part.name in fields:
            raise bad_request(f"The form field '{part.name}' is given twice.")
        else:
            fields[part.name] = await _text(part)
    request["upload"] = _logged_form(fields, file_name, content)
    if content is None:
        workspace.check_upload(file_id, fields)  # a missing field or signature first
        raise bad_request("The upload has no part named 'file'.")
    workspace.store_upload(file, content)
    return web.Response(status=204)


async def _read_at_most(part: BodyPartReader, size: int, too_long: str) -> bytes:
    """The part's bytes; past `size`, 400 `too_long` (the rest is not read)."""
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data.extend(chunk)
        if len(data) > size:
            raise bad_request(too_long)
    return bytes(data)


def _logged_form(fields: dict[str, str], file_name: str | None, content: bytes | None) -> Any:
    form = {k: (MASK if k == "signature" else v) for k, v in fields.items()}
    file = None if content is None else {"filename": file_name, "size": len(content)}
    return {"form_data": form, "file": file}


@logged
async def download(request: web.Request) -> web.Response:
    file_id = request.match_info["id"]
    workspace = request.app[CONTEXT].holding(lambda w: file_id in w.item_files)
    file = workspace.downloadable(file_id, request.query)
    return web.Response(
        body=file.content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.name)}"},
    )


def add_file_routes(app: web.Application) -> None:
    app.router.add_route("POST", UPLOAD_PATH, upload)
    app.router.add_route("GET", DOWNLOAD_PATH, download)

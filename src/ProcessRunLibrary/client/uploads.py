"""Uploads to presigned URLs: a file sent like an S3 presigned POST.

Control Room answers ``createWorkItemFile`` with a ``url`` and ``form_data``. The file
goes there as a multipart POST with every field of ``form_data`` unchanged and the file
as the last part, named ``file``; a 2xx answer means done. The URL and the fields are
credentials of their own: they are masked in every log line and message, and the
session's Authorization header is never sent with them (:meth:`Transport.open_url`).
The body is streamed from disk in blocks (requests-toolbelt's ``MultipartEncoder``),
never read whole into memory, and can be rewound, so that a retried upload sends it
again from the start.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_toolbelt import MultipartEncoder

from .. import masking
from ..errors import ControlRoomError, InvalidArgument
from ..text import printable
from .answers import retries_text
from .deadline import body_sent
from .transport import Transport


@dataclass(frozen=True)
class UploadFile:
    """A local file to upload: where it is, the name it gets, its size in bytes."""

    path: str
    name: str
    size: int

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


def upload_files(name: str, paths: Iterable[Any]) -> list[UploadFile]:
    """Check that every path is a readable file with a distinct name; raise
    :class:`InvalidArgument` naming the argument otherwise. Nothing is read yet."""
    files: list[UploadFile] = []
    for given in paths:
        if not isinstance(given, (str, os.PathLike)) or not str(given).strip():
            raise InvalidArgument(f"Argument '{name}' must hold paths of files, got {given!r}.")
        path = os.path.abspath(os.fspath(given))
        if not os.path.exists(path):
            raise InvalidArgument(f"Argument '{name}' names a file that does not exist: '{path}'.")
        if not os.path.isfile(path):
            raise InvalidArgument(f"Argument '{name}' names a directory, not a file: '{path}'.")
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            raise InvalidArgument(
                f"Argument '{name}' names a file that cannot be read: '{path}' "
                f"({error.strerror or error})."
            ) from None
        file = UploadFile(path, os.path.basename(path), os.path.getsize(path))
        if any(f.name == file.name for f in files):
            raise InvalidArgument(
                f"Argument '{name}' names two files called '{file.name}': the files of a "
                "work item need distinct names."
            )
        files.append(file)
    return files


class _MultipartBody:
    """A multipart body read from disk block by block, that can be sent again: urllib3
    rewinds a body with ``seek(0)`` before it repeats a request, and a body read to its
    end starts over when it is read again (a retry that sends the same object anew)."""

    def __init__(self, fields: list[tuple[str, str]], file: UploadFile) -> None:
        self._fields = fields
        self._file = file
        self._boundary = uuid.uuid4().hex
        self._handle: io.BufferedReader | None = None
        self._open()

    def _open(self) -> None:
        self.close()
        self._handle = open(self._file.path, "rb")  # noqa: SIM115 - closed by close()
        part = (self._file.name, self._handle, self._file.content_type)
        self._encoder = MultipartEncoder([*self._fields, ("file", part)], self._boundary)
        self._position = 0
        self._ended = False

    @property
    def content_type(self) -> str:
        return str(self._encoder.content_type)

    @property
    def len(self) -> int:  # what requests reads for the Content-Length
        return int(self._encoder.len)

    def read(self, size: int = -1) -> bytes:
        if self._ended:
            self._open()
        chunk = bytes(self._encoder.read(size))
        self._position += len(chunk)
        body_sent(len(chunk))  # the deadline of an upload follows its progress
        if not chunk and size != 0:
            self._ended = True
        return chunk

    def tell(self) -> int:
        return 0 if self._ended else self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a multipart body can only be rewound to its start")
        self._open()
        return 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def upload_presigned_post(
    transport: Transport, announced: str, upload: Any, file: UploadFile
) -> None:
    """Send ``file`` to the ``url`` of ``upload`` with its ``form_data`` fields.
    ``announced`` is the path of the request that answered ``upload``."""
    url = upload.get("url") if isinstance(upload, dict) else None
    form = upload.get("form_data") if isinstance(upload, dict) else None
    if (
        not isinstance(url, str)
        or not url.startswith(("https://", "http://"))
        or not isinstance(form, dict)
    ):
        raise ControlRoomError(
            "POST",
            announced,
            "the answer has no upload 'url' (http or https) and 'form_data'.",
        )
    fields = [(str(k), v if isinstance(v, str) else str(v)) for k, v in form.items()]
    # urllib3 logs the path of the URL apart from its host: mask that too.
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    masking.register(url, *(v for _, v in fields), *([path] if len(path) >= 8 else []))
    shown = f"<upload URL of '{file.name}'>"
    body = _MultipartBody(fields, file)
    try:
        response = transport.open_url(
            "POST",
            url,
            data=body,
            headers={"Content-Type": body.content_type},
            repeatable=True,  # the same object stored again: no harm
            shown=shown,
        )
    finally:
        body.close()
    with response:
        if response.status_code >= 300:
            reason = _upload_error(response) + retries_text(getattr(response, "retries_made", 0))
            raise ControlRoomError(
                "POST", shown, masking.mask(reason + "."), status=response.status_code
            )


def _upload_error(response: requests.Response) -> str:
    try:
        reason = f"{response.status_code} {HTTPStatus(response.status_code).phrase}"
    except ValueError:
        reason = str(response.status_code)
    # S3 explains a refusal in XML: <Error><Code>..</Code><Message>..</Message></Error>.
    text = response.text[:4000]
    parts = [
        printable(match.group(1).strip())  # the server's words reach the console
        for tag in ("Code", "Message")
        if (match := re.search(rf"<{tag}>([^<]*)</{tag}>", text))
    ]
    return ": ".join([reason, *parts])

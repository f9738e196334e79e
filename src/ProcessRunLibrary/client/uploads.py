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
import stat
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
from requests_toolbelt import MultipartEncoder

from .. import masking
from ..checks import shown
from ..errors import ControlRoomError, InvalidArgument, ProcessRunLibraryError
from ..text import printable
from .answers import retries_text
from .deadline import body_sent
from .downloads import os_reason
from .transport import Transport


@dataclass(frozen=True)
class UploadFile:
    """A local file to upload: where it is, the name it gets, its size in bytes when it
    was checked, and the handle it was checked through. Everything is read through that
    handle, never by the path again: a file renamed, deleted or replaced (by a named pipe,
    say) after the check is still the file that was checked. :meth:`close` it after use."""

    path: str
    name: str
    size: int
    handle: BinaryIO = field(repr=False, compare=False)

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    def close(self) -> None:
        self.handle.close()


class FileChanged(ProcessRunLibraryError):
    """A file to upload changed, or could not be read, after it was checked."""


# A named pipe opened without O_NONBLOCK waits for a writer for ever: open without
# waiting, then refuse whatever is not a regular file. (Windows has no named pipes in
# the file system, and no O_NONBLOCK.)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def upload_files(name: str, paths: Iterable[Any]) -> list[UploadFile]:
    """Open every path, check that it is a readable regular file and that the names are
    distinct; raise :class:`InvalidArgument` naming the argument otherwise (closing what
    was opened). Nothing is read yet; the caller closes the files."""
    files: list[UploadFile] = []
    try:
        for given in paths:
            if not isinstance(given, (str, os.PathLike)) or not str(given).strip():
                raise InvalidArgument(
                    f"Argument '{name}' must hold paths of files, got {shown(given)}."
                )
            path = os.path.abspath(os.fspath(given))
            if any(f.name == os.path.basename(path) for f in files):
                raise InvalidArgument(
                    f"Argument '{name}' names two files called '{os.path.basename(path)}': "
                    "the files of a work item need distinct names."
                )
            files.append(_open_regular_file(name, path))
    except BaseException:
        for file in files:
            file.close()
        raise
    return files


def _open_regular_file(name: str, path: str) -> UploadFile:
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except ValueError:  # a NUL character, or one the file system's encoding lacks
        raise InvalidArgument(
            f"Argument '{name}' names a path that no file can have here: {shown(path)}."
        ) from None
    except FileNotFoundError:
        raise InvalidArgument(
            f"Argument '{name}' names a file that does not exist: '{path}'."
        ) from None
    except OSError as error:
        if os.path.isdir(path):  # Windows refuses to open a directory
            raise InvalidArgument(
                f"Argument '{name}' names a directory, not a file: '{path}'."
            ) from None
        raise InvalidArgument(
            f"Argument '{name}' names a file that cannot be read: '{path}' ({os_reason(error)})."
        ) from None
    try:
        mode = os.fstat(descriptor).st_mode
        kind = next((what for test, what in _KINDS if test(mode)), None)
        if kind is None and not stat.S_ISREG(mode):
            kind = "a special file"
        if kind is not None:
            raise InvalidArgument(f"Argument '{name}' names {kind}, not a file: '{path}'.")
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    return UploadFile(path, os.path.basename(path), os.fstat(handle.fileno()).st_size, handle)


class _Snapshot:
    """The file as it was checked: exactly ``size`` bytes from its start, read through
    the handle opened then. A file that ends early or goes on past that size (written
    to while it is sent) stops the upload with :class:`FileChanged`."""

    def __init__(self, file: UploadFile) -> None:
        self._file = file
        self._left = file.size

    @property
    def len(self) -> int:  # what requests-toolbelt reads for the part's length
        return self._left

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        if not wanted:
            return b""
        chunk = self._read(wanted)
        if not chunk:
            raise FileChanged(self._changed("got shorter"))
        self._left -= len(chunk)
        # The encoder asks no more once the part is complete: look one byte further now.
        if not self._left and self._read(1):
            raise FileChanged(self._changed("grew"))
        return chunk

    def _read(self, size: int) -> bytes:
        try:
            return self._file.handle.read(size)
        except OSError as error:
            message = f"Could not read file '{self._file.path}': {os_reason(error)}."
            raise FileChanged(message) from None

    def _changed(self, how: str) -> str:
        return (
            f"File '{self._file.path}' {how} while it was being uploaded: it had "
            f"{self._file.size:,} bytes when it was checked."
        )


class _MultipartBody:
    """A multipart body read from disk block by block, that can be sent again: urllib3
    rewinds a body with ``seek(0)`` before it repeats a request, and a body read to its
    end starts over when it is read again (a retry that sends the same object anew)."""

    def __init__(self, fields: list[tuple[str, str]], file: UploadFile) -> None:
        self._fields = fields
        self._file = file
        self._boundary = uuid.uuid4().hex
        self._open()

    def _open(self) -> None:
        file = self._file
        try:
            file.handle.seek(0)
            now = os.fstat(file.handle.fileno()).st_size
        except OSError as error:
            raise FileChanged(f"Could not read file '{file.path}': {os_reason(error)}.") from None
        if now != file.size:
            raise FileChanged(
                f"File '{file.path}' changed after it was checked: it had {file.size:,} "
                f"bytes, now {now:,}."
            )
        part = (file.name, _Snapshot(file), file.content_type)
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
        """Nothing to release: the file's handle belongs to its :class:`UploadFile`."""


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

"""The one download mechanism: files from presigned download URLs, streamed to disk.

Every keyword that saves files (step run artifacts, process run output files) goes
through :func:`save_files`. A download URL is a credential of its own, so it goes out
through :meth:`Transport.open_url` (no Authorization header, masked in every log line)
and never appears in a message of this module. File names come from the server and are
untrusted: :func:`safe_name` reduces them to a base name that cannot leave the folder.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import requests

from .. import masking
from ..checks import shown
from ..errors import DownloadFailed
from .answers import retries_text
from .retries import BrokenBody
from .transport import Transport

log = logging.getLogger("ProcessRunLibrary")

MAX_DOWNLOAD_BYTES = 1024**3  # 1 GiB per file: a larger file fails its download
CHUNK_BYTES = 64 * 1024  # what is held in memory at a time
MAX_NAME_BYTES = 255  # the longest file name most file systems allow
_WINDOWS_UNSAFE = re.compile(r'[<>:"|?*]')
# Device names Windows reserves in every folder, with any extension (``nul.txt``) and
# spaces before it; COM and LPT also with a superscript digit.
_WINDOWS_RESERVED = re.compile(
    r"(?i)^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])"
    r" *(\..*)?$"
)


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its name as the server gave it, and how to get its URL
    (called only when the file is about to be saved, so that a short-lived URL is fresh)."""

    name: object
    url: Callable[[], str]


def safe_name(name: object) -> str:
    """A base name that is safe to create in a folder, or ``''`` when nothing is left.

    Control and format characters (NUL, escape sequences, right-to-left overrides) and
    lone surrogates are removed; the name is normalised to NFC (``é`` as one character,
    as macOS and Windows compare names); only what follows the last ``/`` or ``\\`` is
    kept; ``< > : " | ? *`` become ``_``; runs of dots become one dot; dots and spaces at
    either end are removed; a name that Windows reserves (``CON``, ``PRN``, ``AUX``,
    ``NUL``, ``CONIN$``, ``CONOUT$``, ``COM0``-``COM9``, ``LPT0``-``LPT9``, ``COM¹``
    ``COM²`` ``COM³`` ``LPT¹`` ``LPT²`` ``LPT³``, in any case, with any extension) gets
    a leading ``_``; a name longer than 255 bytes is shortened before its extension.
    """
    if not isinstance(name, str):
        return ""
    text = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _WINDOWS_UNSAFE.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text).strip(" .")
    if _WINDOWS_RESERVED.match(text):
        text = "_" + text
    stem, dot, extension = text.rpartition(".")
    if not stem:
        stem, dot, extension = text, "", ""
    while len(f"{stem}{dot}{extension}".encode()) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return f"{stem}{dot}{extension}".strip(" .") if stem else ""


def numbered(name: str, number: int) -> str:
    """``log.html`` -> ``log (2).html``: the name of the second file with that name,
    its stem shortened when the number would make it longer than 255 bytes."""
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    suffix = f" ({number}){dot}{extension}"
    while len(f"{stem}{suffix}".encode()) > MAX_NAME_BYTES and len(stem) > 1:
        stem = stem[:-1]
    return f"{stem}{suffix}"


class UniqueNames:
    """Names made distinct in one folder, in the order asked: the second ``log.html`` is
    ``log (2).html``, the third ``log (3).html``. Names that differ only in case or in
    Unicode normalisation (NFC/NFD) are the same name, as Windows and macOS see them.
    Linear: each name remembers the last number it got."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._last: dict[str, int] = {}

    def add(self, name: str) -> str:
        key = same_name_key(name)
        number = self._last.get(key, 1)
        unique = name if number == 1 else numbered(name, number)
        while same_name_key(unique) in self._taken:
            number += 1
            unique = numbered(name, number)
        self._last[key] = number
        self._taken.add(same_name_key(unique))
        return unique


def same_name_key(name: str) -> str:
    """What two names that one folder cannot hold side by side have in common."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def plan(files: Iterable[RemoteFile], pattern: str) -> list[tuple[RemoteFile, str]]:
    """The files to save with their names in the folder: safe names that match
    ``pattern`` (case-sensitive glob), duplicates numbered (:class:`UniqueNames`),
    names that have nothing safe skipped with a warning."""
    chosen: list[tuple[RemoteFile, str]] = []
    names = UniqueNames()
    for file in files:
        name = safe_name(file.name)
        if not name:
            log.warning(f"Skipped a file whose name has nothing safe to keep: {shown(file.name)}.")
            continue
        if fnmatch.fnmatchcase(name, pattern):
            chosen.append((file, names.add(name)))
    return chosen


def save_files(
    transport: Transport,
    files: Iterable[RemoteFile],
    directory: str | os.PathLike[str],
    pattern: str = "*",
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> list[Path]:
    """Download the files whose safe names match ``pattern`` into ``directory``
    (created when a file is saved); return the paths saved, in the order of ``files``.

    A file already in ``directory`` with the same name is replaced."""
    folder = Path(directory).absolute()
    saved = []
    for file, name in plan(files, pattern):
        target = folder / name
        if target.parent != folder or target.name != name:  # never outside the folder
            raise DownloadFailed(f"Refused to save {shown(file.name)} outside '{folder}'.")
        url = file.url()
        masking.register(url)  # with its path and query, which urllib3 logs apart
        size = _save_on_disk(transport, url, target, name, max_bytes)
        log.info(f"Saved '{name}' ({size} bytes) to '{target}'.")
        saved.append(target)
    return saved


def _save_on_disk(transport: Transport, url: str, target: Path, name: str, max_bytes: int) -> int:
    """:func:`save_file`, with what the disk refuses (no permission, no space, a name
    too long) said in a sentence."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return save_file(transport, url, target, name, max_bytes)
    except OSError as error:
        if isinstance(error, requests.RequestException):  # not the disk's
            raise
        raise DownloadFailed(
            f"Downloading '{name}' failed: it could not be saved in '{target.parent}': "
            f"{os_reason(error)}."
        ) from None


def os_reason(error: OSError) -> str:
    """What went wrong, as a sentence: the system's words for the error number, never
    Python's text of the exception (with its class name and repeated path)."""
    return os.strerror(error.errno) if error.errno else "an unknown error of the system"


def save_file(
    transport: Transport, url: str, target: Path, name: str, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> int:
    """Stream ``url`` into ``target`` and return its size in bytes.

    The body goes into a temporary file in the same folder, renamed to ``target`` only
    when complete, so a failed download leaves no partial file. The download goes
    through the transport's one retry loop: connection errors, 429, 502, 503, 504 and a
    body that breaks off in the middle start it again, all within ``max_retries``;
    redirects are followed within :mod:`.origins`' rules. Any final answer but 200 fails."""
    sizes: list[int] = []

    def read(response: requests.Response) -> None:
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > max_bytes:
            raise DownloadFailed(_too_large(name, max_bytes))
        sizes.append(_write(response, target, name, max_bytes, transport.request_timeout))

    def on_retry(made: int, why: str) -> None:
        log.info(f"Retrying the download of '{name}' after {why} (retry {made}).")

    response = transport.open_url(
        "GET",
        url,
        shown=f"<download URL of '{name}'>",
        read=read,
        fail=lambda reason: DownloadFailed(f"Downloading '{name}' failed: {reason}"),
        on_retry=on_retry,
    )
    response.close()
    status = response.status_code
    if status != 200:
        retried = retries_text(getattr(response, "retries_made", 0))
        what = "" if status >= 400 else ", not 200 with the file"
        raise DownloadFailed(f"Downloading '{name}' failed: HTTP {status}{what}{retried}.")
    return sizes[0]


def _write(
    response: requests.Response, target: Path, name: str, max_bytes: int, seconds: float
) -> int:
    """Write the body into a temporary file renamed to ``target`` when complete; a body
    that breaks off raises :class:`BrokenBody` (the retry loop starts over)."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        size = 0
        with os.fdopen(handle, "wb") as out:
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadFailed(_too_large(name, max_bytes))
                    out.write(chunk)
            except BrokenBody:  # a stall: its own words
                raise
            except requests.Timeout:
                raise BrokenBody(f"no data within {seconds:g} seconds") from None
            except requests.RequestException:
                raise BrokenBody("the connection broke off during the download") from None
        os.replace(temporary, target)
        return size
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _too_large(name: str, max_bytes: int) -> str:
    return f"Downloading '{name}' failed: the file is larger than the limit of {max_bytes:,} bytes."

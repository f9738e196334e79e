"""Where a workspace keeps the bytes of its files on disk: work item files (uploaded, given
through the admin API, copied into a new run) and the artifacts a real command leaves.
Memory holds a small record of each (StoredFile), whatever the size of the file.

One folder per workspace, made when its first file arrives, removed on reset (emptied)
and when the emulator stops (close(), or at the latest when the interpreter exits). Each
record owns its own path: a copy is a hard link, so removing one record never removes the
bytes another still names."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 256 * 1024


@dataclass(frozen=True)
class StoredFile:
    """The bytes of one file, in the spool: owned by the one record that holds it."""

    path: Path
    size: int

    def open(self) -> IO[bytes]:
        """The file for reading (FileNotFoundError: removed since, by a reset or delete).
        Once open, a delete does not cut a download short."""
        return self.path.open("rb")

    def read(self) -> bytes:
        with self.open() as file:
            return file.read()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class Incoming:
    """A file being written into the spool (an upload as it arrives): removed unless kept."""

    def __init__(self, file: IO[bytes], path: Path) -> None:
        self.file = file
        self.path = path
        self.kept = False

    def keep(self) -> StoredFile:
        # The size of what was written, even if a reset has removed the path meanwhile.
        self.file.flush()
        size = os.fstat(self.file.fileno()).st_size
        self.file.close()
        self.kept = True
        return StoredFile(self.path, size)


class Spool:
    """A folder of the emulator's own for the bytes of one workspace's files."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._cleanup: weakref.finalize | None = None

    @property
    def folder(self) -> Path:
        if self._folder is None or not self._folder.is_dir():
            self._folder = Path(tempfile.mkdtemp(prefix="processrun-emulator-"))
            # An emulator that is not closed (a test's Workspace) still leaves no folder.
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._folder, True)
        return self._folder

    @contextlib.contextmanager
    def receiving(self) -> Iterator[Incoming]:
        """A new file to write into; removed on leaving unless `keep()` was called."""
        handle, name = tempfile.mkstemp(dir=self.folder, prefix="file-")
        incoming = Incoming(os.fdopen(handle, "wb"), Path(name))
        try:
            yield incoming
        finally:
            incoming.file.close()
            if not incoming.kept:
                incoming.path.unlink(missing_ok=True)

    def store(self, content: bytes) -> StoredFile:
        """Bytes given whole (the admin API's files)."""
        with self.receiving() as incoming:
            incoming.file.write(content)
            return incoming.keep()

    def copy(self, stored: StoredFile) -> StoredFile:
        """A record of its own for the same bytes: a hard link (no bytes copied), or a copy
        where the file system has no hard links."""
        with self.receiving() as incoming:
            try:
                incoming.path.unlink()
                os.link(stored.path, incoming.path)
            except OSError:  # the temporary name is unlinked: write the copy anew
                with stored.open() as source, incoming.path.open("wb") as target:
                    shutil.copyfileobj(source, target, CHUNK)
            incoming.kept = True
            return StoredFile(incoming.path, stored.size)

    def take_regular_file(self, name: str, dir_fd: int) -> StoredFile | None:
        """A copy of the regular file `name` of the folder `dir_fd`; None for anything
        else. A symlink is not followed (O_NOFOLLOW) and a FIFO does not block
        (O_NONBLOCK): a command's folder may hold either."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            handle = os.open(name, flags, dir_fd=dir_fd)
        except OSError:
            return None
        with os.fdopen(handle, "rb") as source:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                return None
            with self.receiving() as incoming:
                try:
                    shutil.copyfileobj(source, incoming.file, CHUNK)
                except OSError:
                    return None  # unreadable: no artifact rather than no step run end
                return incoming.keep()

    def clear(self) -> None:
        """Remove every file (a reset), uploads still arriving included."""
        if self._folder is not None and self._folder.is_dir():
            for path in self._folder.iterdir():
                path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()

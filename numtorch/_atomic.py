"""Atomic, durable file writes: the one place ``save`` and the checkpoint bundle write a path.

The bytes go to a temporary file in the target's folder, which is synced and then renamed over
the target (the folder synced too), so a crash at any moment leaves either the previous file or
the complete new one. The disk works while the bytes are still being written, so the final
sync has little left to wait for: a large file (its writer calls ``expect``) goes straight from
aligned buffers to the disk with ``O_DIRECT``, one buffer filled while the other is written,
and no copy passes through the page cache; otherwise a background thread starts an
``fdatasync`` every ``SYNC_EVERY`` bytes.
"""
from __future__ import annotations

import mmap
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO, Callable

import numpy as np

__all__ = ["atomic_write", "OutputFile"]

SYNC_EVERY = 256 << 20
BLOCK = 4096  # O_DIRECT alignment of memory, offsets and sizes
DIRECT_MIN = 64 << 20  # files at least this large are written around the page cache
DIRECT_BUFFER = 16 << 20


class OutputFile:
    """The temporary file ``atomic_write`` hands out: a binary stream (``write``) that, told the
    size to come (``expect``), writes a large file around the page cache and otherwise, when
    ``durable``, pushes written bytes to the disk in the background."""

    def __init__(self, f: BinaryIO, path: str, durable: bool) -> None:
        self._f = f
        self._fd = f.fileno()
        self._path = path
        self._durable = durable
        self._pos = 0
        self._direct: _DirectStream | None = None
        self._unsynced = 0
        self._sync: threading.Thread | None = None
        self._error: list[BaseException] = []

    def expect(self, nbytes: int) -> None:
        """About ``nbytes`` more will be written: large writes bypass the page cache."""
        if self._direct is None and nbytes >= DIRECT_MIN and self._pos % BLOCK == 0:
            self._f.flush()
            self._direct = _DirectStream.open(self._path, self._pos)

    def write(self, data) -> int:
        if self._direct is not None:
            n = self._direct.write(data)
        else:
            n = self._f.write(data)
            self._sync_behind(n)
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def _sync_behind(self, n: int) -> None:
        self._unsynced += n
        if not self._durable or self._unsynced < SYNC_EVERY or (
                self._sync is not None and self._sync.is_alive()):
            return
        self._unsynced = 0
        self._f.flush()
        self._sync = threading.Thread(target=self._fdatasync, daemon=True)
        self._sync.start()

    def _fdatasync(self) -> None:
        try:
            os.fdatasync(self._fd)
        except OSError as exc:  # reported by finish()
            self._error.append(exc)

    def finish(self) -> None:
        """Write what is buffered; when durable, wait until every byte is on the disk."""
        if self._direct is not None:
            offset, rest = self._direct.close()
            self._direct = None
            if rest:
                os.pwrite(self._fd, rest, offset)
        self._f.flush()
        if self._sync is not None:
            self._sync.join()
        if self._error:
            raise self._error[0]
        if self._durable:
            os.fsync(self._fd)

    def close_unfinished(self) -> None:
        """Stop a direct stream after an error (its bytes no longer matter)."""
        if self._direct is not None:
            self._direct.abandon()
            self._direct = None

    def __getattr__(self, name: str):
        return getattr(self._f, name)


class _DirectStream:
    """Sequential writes with ``O_DIRECT`` through two aligned buffers: one is filled while
    the other goes to the disk. The disk reads the buffers by DMA, so no copy of the file
    lands in (or evicts) the page cache; the last, partial block is left to the caller."""

    def __init__(self, fd: int, offset: int) -> None:
        self.fd = fd
        self.offset = offset  # file offset of the current buffer's first byte
        self.buffers = [mmap.mmap(-1, DIRECT_BUFFER) for _ in range(2)]  # page-aligned
        self.views = [np.frombuffer(b, dtype=np.uint8) for b in self.buffers]
        self.current = 0
        self.fill = 0
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="numtorch-write")
        self.pending: list[Future | None] = [None, None]

    @classmethod
    def open(cls, path: str, offset: int) -> "_DirectStream | None":
        """A stream writing ``path`` from ``offset``, or None where the file system cannot
        write around the page cache."""
        flag = getattr(os, "O_DIRECT", 0)
        if not flag:
            return None
        try:
            fd = os.open(path, os.O_WRONLY | flag)
        except OSError:
            return None
        probe = mmap.mmap(-1, BLOCK)
        try:
            os.pwrite(fd, probe, offset)  # some file systems accept the flag but not the I/O
        except OSError:
            os.close(fd)
            return None
        return cls(fd, offset)

    def write(self, data) -> int:
        src = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else \
            np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
        done, n = 0, src.size
        while done < n:
            take = min(DIRECT_BUFFER - self.fill, n - done)
            np.copyto(self.views[self.current][self.fill:self.fill + take],
                      src[done:done + take])
            self.fill += take
            done += take
            if self.fill == DIRECT_BUFFER:
                self._send()
        return n

    def _send(self) -> None:
        self.pending[self.current] = self.writer.submit(
            _pwrite_all, self.fd, self.buffers[self.current], DIRECT_BUFFER, self.offset)
        self.offset += DIRECT_BUFFER
        self.current ^= 1
        self.fill = 0
        self._wait(self.current)

    def _wait(self, i: int) -> None:
        job, self.pending[i] = self.pending[i], None
        if job is not None:
            job.result()

    def close(self) -> tuple[int, bytes]:
        """Write every whole block; returns where the remaining bytes go, and the bytes."""
        try:
            whole = self.fill // BLOCK * BLOCK
            if whole:
                _pwrite_all(self.fd, self.buffers[self.current], whole, self.offset)
            rest = self.views[self.current][whole:self.fill].tobytes()
            self._wait(0)
            self._wait(1)
            return self.offset + whole, rest
        finally:
            self.abandon()

    def abandon(self) -> None:
        self.writer.shutdown(wait=True)
        os.close(self.fd)
        self.fd = -1


def _pwrite_all(fd: int, buffer: mmap.mmap, nbytes: int, offset: int) -> None:
    view = memoryview(buffer)[:nbytes]
    try:
        done = 0
        while done < nbytes:
            done += os.pwrite(fd, view[done:], offset + done)
    finally:
        view.release()


def _target(path: str) -> str:
    """The file a write to ``path`` replaces: a symbolic link is written through, as ``open``."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {os.path.dirname(os.path.abspath(path))} does not "
                           "exist.")
    if os.path.isdir(real):
        raise RuntimeError(f"open file failed with strerror: Is a directory ({path!r}); name a "
                           "file inside it")
    return real


def _mode_for(target: str) -> int:
    try:
        return os.stat(target).st_mode & 0o7777  # an existing file keeps its permissions
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], *,
                 durable: bool = True) -> None:
    """Call ``write(f)`` with a binary file that becomes ``path`` once it is complete.

    ``durable=False`` skips the syncs: still atomic if the process dies, but a power loss may
    lose the new file's contents. Raises RuntimeError if ``path``'s folder does not exist.
    """
    target = _target(os.fspath(path))
    folder = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            f = OutputFile(raw, tmp, durable)
            try:
                write(f)
            except BaseException:
                f.close_unfinished()
                raise
            f.finish()
        os.chmod(tmp, _mode_for(target))
        _replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _sync_folder(folder)


def _replace(tmp: str, target: str) -> None:
    """Rename ``tmp`` over ``target``; the replaced file's blocks are freed in the background
    (freeing a large file's blocks can take as long as writing it)."""
    try:
        old = os.open(target, os.O_RDONLY)
    except OSError:
        old = None
    try:
        os.replace(tmp, target)
    finally:
        if old is not None:
            threading.Thread(target=os.close, args=(old,), daemon=True).start()


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""torch's zip checkpoint layout: a writer (records aligned to 64 bytes) and a reader.

Layout as torch 2.x writes it: ``<archive>/data.pkl``, ``.format_version``,
``.storage_alignment``, ``byteorder``, ``data/<key>`` for each storage, ``version``,
``.data/serialization_id``; stored (uncompressed) records, each local header padded with an
``FB`` extra field so the data starts on a 64-byte boundary, a data descriptor after each record,
and a zip64 end record. The reader accepts any archive folder name and compressed records, and
locates each stored record's bytes so they can be read directly or memory-mapped.
"""
from __future__ import annotations

import io
import os
import secrets
import struct
import zipfile
import zlib
from typing import BinaryIO, Iterable

import numpy as np

from .. import _parallel
from ._crc import crc32_combine_pieces
from ._storage import CheckpointError

__all__ = ["write_archive", "ZipReader", "is_zip"]

ALIGN = 64
_CHUNK = 64 << 20
_CRC_PIECE = 8 << 20
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_MAX32 = 0xFFFFFFFF


def is_zip(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a zip archive."""
    return head[:4] == b"PK\x03\x04"


class _ZipWriter:
    """Streams stored records to ``f`` at 64-byte aligned offsets; the CRCs of large records
    are computed in pieces on the worker threads while this thread writes."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.pos = 0
        self.entries: list[tuple[bytes, int, int, int]] = []  # name, crc, size, header offset

    def _write(self, data) -> None:
        mv = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        n = len(mv)
        for start in range(0, n, _CHUNK):
            self.f.write(mv[start:start + _CHUNK])
        self.pos += n

    def add(self, name: str, data) -> None:
        raw = name.encode("utf-8")
        mv = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        size = len(mv)
        crc_jobs = [_parallel.submit(zlib.crc32, mv[at:at + _CRC_PIECE])
                    for at in range(0, size, _CRC_PIECE)] if size > _CRC_PIECE else None
        header_at = self.pos
        pad = (-(header_at + _LOCAL.size + len(raw) + 4)) % ALIGN
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        self._write(_LOCAL.pack(b"PK\x03\x04", 0, 0x0808, 0, 0, 0, 0, 0, 0, len(raw), len(extra))
                    + raw + extra)
        self._write(mv)
        crc = zlib.crc32(mv) if crc_jobs is None else \
            crc32_combine_pieces([job.result() for job in crc_jobs], size, _CRC_PIECE)
        if size >= _MAX32:
            self._write(struct.pack("<4sIQQ", b"PK\x07\x08", crc, size, size))
        else:
            self._write(struct.pack("<4sIII", b"PK\x07\x08", crc, size, size))
        self.entries.append((raw, crc, size, header_at))

    def finish(self) -> None:
        cd_start = self.pos
        parts = []
        for raw, crc, size, off in self.entries:
            z64 = b""
            if size >= _MAX32:
                z64 += struct.pack("<QQ", size, size)
            if off >= _MAX32:
                z64 += struct.pack("<Q", off)
            extra = struct.pack("<HH", 1, len(z64)) + z64 if z64 else b""
            s32 = _MAX32 if size >= _MAX32 else size
            parts.append(_CENTRAL.pack(b"PK\x01\x02", 0, 0, 0x0808, 0, 0, 0, crc, s32, s32,
                                       len(raw), len(extra), 0, 0, 0, 0,
                                       _MAX32 if off >= _MAX32 else off) + raw + extra)
        cd = b"".join(parts)
        self._write(cd)
        n = len(self.entries)
        z64_at = self.pos
        tail = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 0x2D, 0x2D, 0, 0, n, n, len(cd),
                           cd_start)
        tail += struct.pack("<4sIQI", b"PK\x06\x07", 0, z64_at, 1)
        tail += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                            min(len(cd), _MAX32), min(cd_start, _MAX32), 0)
        self._write(tail)


def serialization_id() -> str:
    """A 40-digit identifier, as torch writes in ``.data/serialization_id``."""
    return "".join(str(secrets.randbelow(10)) for _ in range(40))


def write_archive(f: BinaryIO, archive: str, pickled: bytes, storages: Iterable,
                  byteorder: str = "little") -> None:
    """Write a complete torch zip checkpoint: the pickle, metadata records and storages.

    ``byteorder`` only labels the storages' bytes; they must already be in that order.
    """
    storages = list(storages)
    expect = getattr(f, "expect", None)
    if expect is not None:  # lets an OutputFile choose how to write (see _atomic.py)
        expect(len(pickled) + sum(memoryview(rec.data).nbytes for rec in storages))
    w = _ZipWriter(f)
    w.add(f"{archive}/data.pkl", pickled)
    w.add(f"{archive}/.format_version", b"1")
    w.add(f"{archive}/.storage_alignment", b"64")
    w.add(f"{archive}/byteorder", byteorder.encode("ascii"))
    for rec in storages:
        w.add(f"{archive}/data/{rec.key}", rec.data)
    w.add(f"{archive}/version", b"3\n")
    w.add(f"{archive}/.data/serialization_id", serialization_id().encode())
    w.finish()


class ZipReader:
    """Records of a zip checkpoint: names, raw bytes, and where stored records' bytes lie."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        try:
            self.zf = zipfile.ZipFile(f)
            infos = self.zf.infolist()
        except Exception as exc:  # noqa: BLE001 - any zip parsing failure means a corrupt file
            raise CheckpointError(f"not a valid zip checkpoint: {type(exc).__name__}: {exc}") \
                from None
        self.infos = {i.filename: i for i in infos}
        self.prefix = self._find_prefix()

    def _find_prefix(self) -> str:
        for name in self.infos:
            if name == "data.pkl" or name.endswith("/data.pkl") and name.count("/") == 1:
                return name[:-len("data.pkl")]
        for name in self.infos:
            if name.endswith("/constants.pkl") or name.endswith("/data.pkl"):
                return name[:name.rindex("/") + 1]
        raise CheckpointError("zip file has no data.pkl record: not a PyTorch checkpoint")

    def has(self, name: str) -> bool:
        return self.prefix + name in self.infos

    def names(self) -> list[str]:
        n = len(self.prefix)
        return [k[n:] for k in self.infos if k.startswith(self.prefix)]

    def read(self, name: str) -> bytes:
        """A record's bytes; CRCs are not checked (torch never does, and files saved with
        ``set_crc32_options(False)`` hold none)."""
        full = self.prefix + name
        info = self.infos.get(full)
        if info is None:
            raise CheckpointError(f"record '{full}' is missing from the checkpoint")
        try:
            where = self.locate(name)
            if where is not None:
                out = np.empty(where[1], dtype=np.uint8)
                read_into(self.f, where[0], out, full)
                return out.tobytes()
            with self.zf.open(info) as member:
                member._expected_crc = None
                return member.read()
        except CheckpointError:
            raise
        except Exception as exc:  # noqa: BLE001 - any zip parsing failure means a corrupt file
            raise CheckpointError(f"record '{full}' is corrupt: {type(exc).__name__}: {exc}") \
                from None

    def is_stored(self, name: str) -> bool:
        """Whether the record ``name`` exists and is stored uncompressed (readable in place)."""
        info = self.infos.get(self.prefix + name)
        return info is not None and info.compress_type == zipfile.ZIP_STORED and \
            not info.flag_bits & 1

    def stored_size(self, name: str) -> int | None:
        """Size of a stored record's bytes (from the central directory); None when compressed."""
        full = self.prefix + name
        info = self.infos.get(full)
        if info is None:
            raise CheckpointError(f"record '{full}' is missing from the checkpoint")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
            return None
        if info.file_size > self.size:
            raise CheckpointError(f"record '{full}' claims {info.file_size} bytes, more than the "
                                  f"whole file ({self.size}); the file is truncated or corrupt")
        return info.file_size

    def locate(self, name: str) -> tuple[int, int] | None:
        """(file offset, size) of a stored record's bytes; None when compressed."""
        full = self.prefix + name
        info = self.infos.get(full)
        if info is None:
            raise CheckpointError(f"record '{full}' is missing from the checkpoint")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
            return None
        if not 0 <= info.header_offset <= self.size - _LOCAL.size:
            raise CheckpointError(f"record '{full}': header offset {info.header_offset} lies "
                                  f"outside the file ({self.size} bytes)")
        fd = _fileno(self.f)
        if fd is not None:
            head = os.pread(fd, _LOCAL.size, info.header_offset)
        else:
            self.f.seek(info.header_offset)
            head = self.f.read(_LOCAL.size)
        if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
            raise CheckpointError(f"record '{full}': bad local file header at offset "
                                  f"{info.header_offset}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = info.header_offset + _LOCAL.size + name_len + extra_len
        if start + info.file_size > self.size or info.compress_size != info.file_size:
            raise CheckpointError(f"record '{full}': its {info.file_size} bytes at offset {start} "
                                  f"run past the end of the file ({self.size} bytes); the file "
                                  "is truncated")
        return start, info.file_size


def read_into(f: BinaryIO, offset: int, out: np.ndarray, record: str = "") -> None:
    """Fill ``out`` (uint8) with the bytes of ``f`` at ``offset`` (those of ``record``)."""
    mv = memoryview(out)
    fd = _fileno(f)
    n = len(mv)
    done = 0
    while done < n:
        chunk = mv[done:done + _CHUNK]
        if fd is not None:
            got = os.preadv(fd, [chunk], offset + done)
        else:
            f.seek(offset + done)
            got = f.readinto(chunk)
        if not got:
            where = f"record '{record}': " if record else ""
            raise CheckpointError(f"{where}file ends early at offset {offset + done}; truncated")
        done += got


def _fileno(f) -> int | None:
    if isinstance(f, io.BytesIO):
        return None
    try:
        return f.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None

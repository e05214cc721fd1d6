"""Reading any checkpoint file into a flat, labelled list of tensors, without running its code.

Only the header and the pickle are read: zip records are memory-mapped, a legacy file's
storages are skipped by their recorded sizes (``data=True`` reads them), safetensors files are
mapped. Globals outside the weights-only allow-list load as inert placeholders and are listed.
"""
from __future__ import annotations

import os
import struct
import zipfile

from . import _kinds, _stmeta
from ._common import CliError
from ._entries import FileContents, make_entry, mark_sharing, memory_key
from ._walk import Walker

BUNDLE_FORMAT = "numtorch.checkpoint"


def detect_format(path: str) -> str:
    """'safetensors', 'torch-zip', 'torch-legacy' or 'torchscript'; CliError otherwise."""
    with open(path, "rb") as f:
        head = f.read(512)
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if head[8:9] == b"{" and 2 <= n <= os.path.getsize(path) - 8:
            return "safetensors"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any(n.endswith("constants.pkl") for n in names) or any("/code/" in n for n in names):
            return "torchscript"
        return "torch-zip"
    if head[:1] == b"\x80":
        return "torch-legacy"
    if len(head) >= 262 and head[257:262] == b"ustar":
        raise CliError(f"{path}: torch's oldest (.tar) checkpoint format, which numtorch reads "
                       "only with weights_only=False (running the file's pickle); the CLI "
                       "never does. Load and re-save it with torch if you trust it")
    raise CliError(f"{path}: not a PyTorch checkpoint (zip or legacy pickle) nor a "
                   "safetensors file")


class _SkipStorageBytes:
    """A legacy checkpoint opened so that storage bytes are skipped, not read.

    The loader fills storages with ``readinto`` and reads the pickles with ``read`` (pickle
    never calls ``readinto``): here ``readinto`` seeks past the bytes instead, checking they
    exist, and leaves the buffer untouched (uninitialised memory no page of which is touched).
    """

    def __init__(self, f) -> None:
        self._f = f
        self._size = os.fstat(f.fileno()).st_size
        self.read, self.readline, self.tell = f.read, f.readline, f.tell

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def seekable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(memoryview(buf)), max(self._size - self._f.tell(), 0))
        self._f.seek(n, 1)
        return n


def load_object(path: str, fmt: str, *, data: bool = False, placeholders: bool = True):
    """The object a torch file holds, read safely (weights only, never running its code);
    without ``data`` a legacy file's tensors have uninitialised values."""
    from .. import serialization as ser
    unknown = "placeholder" if placeholders else "error"
    if fmt == "torch-legacy" and not data:
        with open(path, "rb") as fh:
            return ser.load(_SkipStorageBytes(fh), map_location="cpu", weights_only=True,
                            unknown_globals=unknown)
    return ser.load(path, map_location="cpu", weights_only=True, mmap=fmt != "torch-legacy",
                    unknown_globals=unknown)


def unsafe_globals(path: str, fmt: str) -> list[str]:
    """The globals of the file's pickle outside the weights-only allow-list (none is run;
    a legacy file's storage bytes are not read)."""
    from .. import serialization as ser
    if fmt == "torchscript":
        return []
    if fmt != "torch-legacy":
        return list(ser.get_unsafe_globals_in_checkpoint(path))
    import pickletools
    with open(path, "rb") as fh:
        try:
            for _ in range(3):  # magic number, protocol version, sys_info
                for _op in pickletools.genops(fh):
                    pass
            start = fh.tell()
            for _op in pickletools.genops(fh):
                pass
        except ValueError as exc:
            raise CliError(f"{path}: corrupt legacy checkpoint ({exc})") from None
        end = fh.tell()
        fh.seek(start)
        return list(ser.unsafe_globals_in_pickle(fh.read(end - start)))


def read(path: str, *, data: bool = False) -> FileContents:
    """What ``path`` holds, labelled; a legacy file's tensor values are read only with
    ``data=True`` (zip and safetensors files are mapped, their values read when touched)."""
    fmt = detect_format(path)
    if fmt == "safetensors":
        return _read_safetensors(path)
    unsafe = unsafe_globals(path, fmt)
    obj = load_object(path, fmt, data=data)
    return _from_object(path, fmt, obj, unsafe)


def _read_safetensors(path: str) -> FileContents:
    from ..serialization import safe_open
    with safe_open(path) as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    sd, tied = _stmeta.restore(meta, tensors, path)
    kinds = _kinds.state_dict_kinds(sd, tied=tied)
    entries = [make_entry(k, t, kinds[k]) for k, t in sd.items()]
    mark_sharing(entries)
    return FileContents(path, "safetensors", entries, metadata=_stmeta.user_metadata(meta),
                        module_metadata=getattr(sd, "_metadata", None))


def _ties(sd: dict) -> dict:
    first: dict = {}
    tied = {}
    for k, t in sd.items():
        mk = memory_key(t)
        if mk is None:
            continue
        if mk in first:
            tied[k] = first[mk]
        else:
            first[mk] = k
    return tied


def _model_kinds(obj) -> dict:
    """{full key: kind} for the tensors of every state dict in ``obj`` (the object itself, or
    the values of a dict such as a training bundle), judged with the optimizer saved beside."""
    if _kinds.is_state_dict(obj):
        return _kinds.state_dict_kinds(obj, tied=_ties(obj))
    if not isinstance(obj, dict):
        return {}
    optims = [v for v in obj.values() if _kinds.is_optimizer_state(v)]
    models = {k: v for k, v in obj.items() if _kinds.is_state_dict(v)}
    out = {}
    for name, sd in models.items():
        optim = optims[0] if len(optims) == 1 and len(models) == 1 else None
        for k, kind in _kinds.state_dict_kinds(sd, optim, _ties(sd)).items():
            out[f"{name}.{k}"] = kind
    return out


def _from_object(path: str, fmt: str, obj, unsafe: list) -> FileContents:
    bundle = isinstance(obj, dict) and obj.get("format") == BUNDLE_FORMAT
    walker = Walker(_model_kinds(obj), default="tensor" if bundle else None)
    walker.walk(obj, "", "model")
    mark_sharing(walker.entries)
    meta = getattr(obj, _stmeta.PT_ATTRIBUTE, None)
    return FileContents(path, "numtorch-bundle" if bundle else fmt, walker.entries,
                        unsafe_globals=unsafe, non_tensors=walker.non_tensors,
                        metadata=dict(meta) if isinstance(meta, dict) else None,
                        module_metadata=getattr(obj, "_metadata", None))

"""Saving and loading PyTorch checkpoint files without torch: ``save``, ``load`` and friends.

``save`` writes torch's zip layout (or the legacy stream) that ``torch.load(weights_only=True)``
reads; ``load`` reads zip, legacy and TorchScript checkpoints, by default through an allow-list
unpickler that never runs code from the file. safetensors files: ``save_safetensors``,
``load_safetensors``, ``safe_open``.
"""
from __future__ import annotations

import io
import os
import pickle
import warnings
from typing import Any, BinaryIO

from .._atomic import atomic_write
from ._allowlist import (add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals,
                         weights_only_message)
from ._pickler import CheckpointPickler, reduce_parameter, reduce_tensor
from ._storage import CheckpointError
from ._unpickler import Placeholder, PlaceholderGlobal, unsafe_globals_in_pickle
from . import torch_zip as _zip
from . import torch_legacy as _legacy
from . import torch_tar as _tar
from ._loader import load_zip as _load_zip, map_file as _map_file
from .safetensors import load_safetensors, safe_open, save_safetensors

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "safe_globals", "get_unsafe_globals_in_checkpoint", "CheckpointError", "Placeholder",
           "PlaceholderGlobal", "save_safetensors", "load_safetensors", "safe_open",
           "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2
# save() to a path syncs the temporary file before renaming it over the target, so the new
# checkpoint survives a power loss too; set False to skip the syncs (the rename alone still
# keeps the previous file intact when the process dies mid-save).
fsync_on_save = True


def _archive_name(f) -> str:
    if isinstance(f, (str, os.PathLike)):
        base = os.path.basename(os.fspath(f))
        return os.path.splitext(base)[0] or "archive"
    return "archive"


def _write(obj, out: BinaryIO, archive: str, protocol: int, zip_format: bool) -> None:
    if not zip_format:
        _legacy.save_legacy(obj, out, protocol)
        return
    buf = io.BytesIO()
    pickler = CheckpointPickler(buf, protocol)
    pickler.dump(obj)
    _zip.write_archive(out, archive, buf.getvalue(), pickler.storages)


def save(obj: Any, f, pickle_protocol: int = DEFAULT_PROTOCOL, _use_new_zipfile_serialization:
         bool = True, _disable_byteorder_record: bool = False) -> None:
    """Save ``obj`` to ``f`` (path, os.PathLike or binary file) in torch's checkpoint format.

    Tensors sharing memory are written as views of one storage. A path is written atomically:
    to a temporary file in the same folder, synced, then renamed over the target.
    """
    if isinstance(f, (str, os.PathLike)):
        archive = _archive_name(f)
        atomic_write(f, lambda out: _write(obj, out, archive, pickle_protocol,
                                           _use_new_zipfile_serialization),
                     durable=fsync_on_save)
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
    _write(obj, f, "archive", pickle_protocol, _use_new_zipfile_serialization)


def _open(f):
    if isinstance(f, (str, os.PathLike)):
        return open(os.fspath(f), "rb"), True
    if not hasattr(f, "read"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'read'")
    if not (hasattr(f, "seek") and f.seekable()):
        return io.BytesIO(f.read()), True
    return f, False


def _size(f) -> int:
    pos = f.tell()
    end = f.seek(0, os.SEEK_END)
    f.seek(pos)
    return end - pos


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, unknown_globals: str = "error", **pickle_load_args) -> Any:
    """Load an object saved with ``torch.save``/``numtorch.save`` from ``f``.

    ``weights_only=True`` (the default unless a ``pickle_module`` is given) resolves only
    allow-listed globals and never runs code from the file; ``unknown_globals="placeholder"``
    loads other globals as inert ``Placeholder``s. ``mmap=True`` maps the file (a path) so
    tensors are read only when touched. TorchScript archives load as a dict of their tensors
    (their code is never run).
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.")
    pickle_load_args.setdefault("encoding", "utf-8")
    try:
        return _load(f, map_location, bool(weights_only), bool(mmap), unknown_globals,
                     pickle_load_args)
    except pickle.UnpicklingError as exc:
        if not weights_only:
            raise
        raise pickle.UnpicklingError(weights_only_message(str(exc))) from None


def _load(f, map_location, weights_only: bool, mmap: bool, unknown_globals: str,
          pickle_load_args: dict) -> Any:
    fh, owned = _open(f)
    try:
        start = fh.tell()
        head = fh.read(512)
        fh.seek(start)
        size = _size(fh)
        if not head:
            raise CheckpointError("the checkpoint file is empty")
        if _zip.is_zip(head):
            return _load_zip_file(fh, size, map_location, weights_only,
                                  mmap and _mmap_path(f), unknown_globals, pickle_load_args)
        if mmap:
            raise _legacy.mmap_refused(f)
        if _tar.is_tar(head):
            if weights_only:
                raise RuntimeError(_tar.WEIGHTS_ONLY_REFUSED)
            return _tar.load_tar(fh, map_location=map_location, unknown_globals=unknown_globals,
                                 pickle_load_args=pickle_load_args)
        if _legacy.is_legacy(head):
            return _legacy.load_legacy(fh, size, map_location=map_location,
                                       weights_only=weights_only,
                                       unknown_globals=unknown_globals,
                                       pickle_load_args=pickle_load_args)
        raise CheckpointError(
            f"not a PyTorch checkpoint: starts with {head[:8]!r}, neither a zip archive nor the "
            "legacy format's pickled magic number")
    finally:
        if owned:
            fh.close()


def _mmap_path(f) -> bool:
    if not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    return True


def _load_zip_file(fh, size, map_location, weights_only, mmap, unknown_globals, pickle_load_args):
    if fh.tell() != 0:
        fh = io.BytesIO(fh.read())
        size = len(fh.getvalue())
    reader = _zip.ZipReader(fh, size)
    if reader.has("constants.pkl"):
        from .torchscript import load_torchscript
        return load_torchscript(reader, map_location=map_location)
    mapped = _map_file(fh) if mmap else None
    return _load_zip(reader, map_location=map_location, weights_only=weights_only,
                     mmap_file=mapped, unknown_globals=unknown_globals,
                     pickle_load_args=pickle_load_args)


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals a checkpoint needs that ``weights_only=True`` would refuse (nothing is run)."""
    fh, owned = _open(f)
    try:
        start = fh.tell()
        head = fh.read(64)
        fh.seek(start)
        size = _size(fh)
        if _zip.is_zip(head):
            if start:
                fh, size = io.BytesIO(fh.read()), size
            return unsafe_globals_in_pickle(_zip.ZipReader(fh, size).read("data.pkl"))
        if _legacy.is_legacy(head):
            return unsafe_globals_in_pickle(_legacy_main_pickle(fh.read()))
        raise CheckpointError("not a PyTorch checkpoint")
    finally:
        if owned:
            fh.close()


def _legacy_main_pickle(data: bytes) -> bytes:
    import pickletools
    pos = 0
    for _ in range(3):  # magic number, protocol version, sys_info
        try:
            for op, _arg, at in pickletools.genops(io.BytesIO(data[pos:])):
                if op.name == "STOP":
                    pos += at + 1
                    break
        except Exception as exc:  # noqa: BLE001 - a malformed header
            raise CheckpointError(f"cannot scan the legacy header: {exc}") from None
    return data[pos:]

"""The worker-process side of a DataLoader: seeding, the fetch loop, errors and transport.

A worker is seeded as torch seeds one: Python's ``random`` and numtorch's default generator
with ``base_seed + worker_id``, NumPy's global generator with the four words torch derives from
``(base_seed, worker_id)``. After each batch it reports its random states when they changed, so
the main process knows every worker's state after the last batch it handed out (exact resume).
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable

import numpy as np

from ... import random as nt_random
from ..._parallel import set_num_threads
from ..._tensor import Tensor, _from_array
from ...checkpoint import capture_rng_state, restore_rng_state
from ._fetch import FetchSpec

__all__ = ["WorkerInfo", "get_worker_info"]

POLL_INTERVAL = 0.25  # seconds the main process waits before checking its workers are alive
_WORKER_POLL = 0.1  # seconds a worker waits for work before checking it should still run


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a worker process knows about itself (``get_worker_info()`` inside a worker)."""
    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The current worker's info, or None in the main process."""
    return _worker_info


# ---------------------------------------------------------------------- seeding
_MASK32 = 0xFFFFFFFF


class _HashMix:
    """SeedSequence's hashmix: multiply-xorshift with a constant that advances per call."""

    def __init__(self, const: int, mult: int) -> None:
        self.const, self.mult = const, mult

    def __call__(self, value: int) -> int:
        value = (value ^ self.const) & _MASK32
        self.const = (self.const * self.mult) & _MASK32
        value = (value * self.const) & _MASK32
        return value ^ (value >> 16)


def _mix(x: int, y: int) -> int:
    r = (0xCA01F9DD * x - 0x4973F715 * y) & _MASK32
    return r ^ (r >> 16)


def numpy_seed_words(base_seed: int, worker_id: int) -> list[int]:
    """The 32-bit words a worker seeds NumPy's global generator with: torch's derivation from
    ``(base_seed, worker_id)`` (NumPy's SeedSequence mixing), so equal seeds give torch's state."""
    hash_in = _HashMix(0x43B0D7E5, 0x931E8875)
    pool = [hash_in(word) for word in (worker_id, base_seed & _MASK32, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = _mix(pool[dst], hash_in(pool[src]))
    hash_out = _HashMix(0x8B51F9DD, 0x58F38DED)
    return [hash_out(word) for word in pool]


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed this process's generators as torch seeds worker ``worker_id``; returns its seed."""
    seed = base_seed + worker_id
    random.seed(seed)
    nt_random.manual_seed(seed)
    np.random.seed(numpy_seed_words(base_seed, worker_id))
    set_num_threads(1)
    return seed


def rng_fingerprint() -> tuple:
    """A cheap value that changes whenever one of the process's random states changes."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    numtorch_state = nt_random.numpy_generator(None).bit_generator.state
    return random.getstate(), keys.tobytes(), pos, has_gauss, gauss, numtorch_state


# ---------------------------------------------------------------------- messages
class WorkerFailure:
    """An exception raised in a worker, carried to the main process and re-raised there as
    torch does: same type, message ``Caught <Type> in DataLoader worker process <id>.`` and the
    original traceback."""

    def __init__(self, exc: BaseException, worker_id: int) -> None:
        exc_type = type(exc)
        try:
            pickle.dumps(exc_type)
        except Exception:  # noqa: BLE001 - an unpicklable type is re-raised as RuntimeError
            exc_type = None
        self.exc_type = exc_type
        self.type_name = type(exc).__name__
        self.text = "".join(traceback.format_exception(exc))
        self.where = f"in DataLoader worker process {worker_id}"

    def reraise(self):
        """Raise the worker's exception in this process."""
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            msg = _ReadableKeyMessage(msg)
        elif self.exc_type is not None and getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exc = self.exc_type(msg) if self.exc_type is not None else RuntimeError(msg)
        except Exception:  # noqa: BLE001 - a type needing other arguments
            raise RuntimeError(msg) from None
        try:
            raise exc
        finally:
            del exc  # no frame -> exception -> traceback -> frame cycle keeping workers alive


class _ReadableKeyMessage(str):
    """A KeyError's message that shows as itself, not as a quoted repr."""
    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Exhausted:
    """A worker's pass over an iterable dataset is over."""
    worker_id: int


@dataclass(frozen=True)
class Restart:
    """To a persistent worker: a new epoch begins (new fetcher; random states to take, if
    any, packed). The worker answers ``(Restart(its current random states), worker_id, None)``."""
    rng: Any = None


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process is started with (picklable for spawn and forkserver)."""
    fetch: FetchSpec
    base_seed: int
    init_fn: Callable | None
    num_workers: int


# ---------------------------------------------------------------------- transport
class _Payload:
    """A tensor crossing a process boundary as its array."""
    __slots__ = ("array",)

    def __init__(self, array) -> None:
        self.array = array


def _map(fn, obj):
    if isinstance(obj, dict):
        items = ((k, fn(v)) for k, v in obj.items())
        return dict(items) if type(obj) is dict else type(obj)(items)
    if isinstance(obj, list):
        return [fn(v) for v in obj]
    if isinstance(obj, tuple):
        values = (fn(v) for v in obj)
        return type(obj)(*values) if hasattr(obj, "_fields") else tuple(values)
    return obj


def pack(obj):
    """``obj`` with its tensors replaced by their arrays (cheap to pickle, and independent of
    how tensors pickle)."""
    if isinstance(obj, Tensor):
        return _Payload(obj._data)
    return _map(pack, obj)


def unpack(obj):
    """The inverse of ``pack``."""
    if isinstance(obj, _Payload):
        return _from_array(obj.array)
    return _map(unpack, obj)


def send(result_queue, message: tuple, worker_id: int) -> None:
    """Put ``message`` on the queue already pickled, so a batch that cannot be pickled comes
    back as this worker's error instead of being dropped by the queue's feeder thread."""
    try:
        blob = bytes(ForkingPickler.dumps(message))
    except Exception as exc:  # noqa: BLE001 - re-raised in the main process
        blob = bytes(ForkingPickler.dumps((message[0], WorkerFailure(exc, worker_id), None)))
    result_queue.put(blob)


def receive(blob: bytes) -> tuple:
    """A message ``send`` put on the queue."""
    return ForkingPickler.loads(blob)


# ---------------------------------------------------------------------- the worker loop
def _start(config: WorkerConfig, worker_id: int, rng_state):
    """Seed, publish worker info, run ``worker_init_fn``; returns (fetcher, init failure)."""
    global _worker_info
    seed = seed_worker(config.base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=config.num_workers, seed=seed,
                              dataset=config.fetch.dataset)
    try:
        if config.init_fn is not None:
            config.init_fn(worker_id)
        fetcher = config.fetch.make()
    except Exception as exc:  # noqa: BLE001 - reported with the first batch, as torch does
        return None, WorkerFailure(exc, worker_id)
    if rng_state is not None:
        restore_rng_state(unpack(rng_state))
    return fetcher, None


def worker_loop(config: WorkerConfig, worker_id: int, index_queue, result_queue, done_event,
                rng_state) -> None:
    """Serve ``(task_index, index)`` requests until told to stop (None) or the parent dies;
    each answer is ``(task_index, batch or WorkerFailure or Exhausted, random states or None)``."""
    parent_pid = os.getppid()  # the main process, or the forkserver that dies with it
    try:
        fetcher, failure = _start(config, worker_id, rng_state)
        seen = rng_fingerprint()
        ended = False
        while os.getppid() == parent_pid:
            try:
                msg = index_queue.get(timeout=_WORKER_POLL)
            except queue.Empty:
                if done_event.is_set():
                    break
                continue
            if msg is None:
                break
            if isinstance(msg, Restart):
                if msg.rng is not None:
                    restore_rng_state(unpack(msg.rng))
                seen, ended = rng_fingerprint(), False
                fetcher = config.fetch.make() if failure is None else None
                send(result_queue, (Restart(pack(capture_rng_state())), worker_id, None),
                     worker_id)
                continue
            if done_event.is_set() or ended:
                continue
            task, index = msg
            rng = None
            if failure is not None:
                data, failure = failure, None
            else:
                try:
                    data = pack(fetcher.fetch(index))
                    now = rng_fingerprint()
                    if now != seen:
                        seen, rng = now, pack(capture_rng_state())
                except StopIteration as exc:
                    ended = config.fetch.iterable
                    data = Exhausted(worker_id) if ended else WorkerFailure(exc, worker_id)
                except Exception as exc:  # noqa: BLE001 - re-raised in the main process
                    data = WorkerFailure(exc, worker_id)
            send(result_queue, (task, data, rng), worker_id)
            del data, msg
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        result_queue.cancel_join_thread()
        result_queue.close()

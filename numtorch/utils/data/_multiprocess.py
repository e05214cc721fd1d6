"""Loading batches in worker processes, as torch's multiprocessing DataLoader iterator does.

Batch ``i`` of an epoch goes to worker ``i % num_workers`` (round robin over the workers still
running), at most ``prefetch_factor * num_workers`` batches are in flight, and batches come
back in order (unless ``in_order=False``). Workers stop when the epoch ends, when the iterator
is dropped, or with the DataLoader when ``persistent_workers=True``.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import warnings

from ._iterators import BaseIter
from ._resume import ResumePlan
from ._worker import (POLL_INTERVAL, Exhausted, Restart, WorkerConfig, WorkerFailure, pack,
                      receive, unpack, worker_loop)

__all__ = ["MultiProcessIter", "check_worker_count"]

_exiting = [False]
atexit.register(lambda: _exiting.__setitem__(0, True))


def check_worker_count(num_workers: int) -> None:
    """torch's warning when more workers are asked for than this process may use cores."""
    if not num_workers:
        return
    try:
        cores, checked = len(os.sched_getaffinity(0)), True
    except AttributeError:
        cores, checked = os.cpu_count(), False
    if cores is not None and num_workers <= cores:
        return
    suggestion = ("DataLoader is not able to compute a suggested max number of worker in current "
                  "system." if cores is None else
                  f"Our suggested max number of worker in current system is {cores}"
                  f"{'' if checked else ' (`cpuset` is not taken into account)'}, which is "
                  "smaller than what this DataLoader is going to create.")
    warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. "
                  f"{suggestion} Please be aware that excessive worker creation might get "
                  "DataLoader running slow or even freeze, lower the worker number to avoid "
                  "potential slowness/freeze if necessary.", stacklevel=3)


class MultiProcessIter(BaseIter):
    """Hands index batches to worker processes and returns their batches in order."""

    def __init__(self, loader, plan: ResumePlan | None) -> None:
        super().__init__(loader, plan)
        self._prefetch = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        config = WorkerConfig(self._spec, self._base_seed, loader.worker_init_fn,
                              self._num_workers)
        self._shutdown = False
        self._results = ctx.Queue()
        self._done = ctx.Event()
        self._index_queues, self._workers = [], []
        rng = self._position.worker_rng
        try:
            for w in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()
                proc = ctx.Process(target=worker_loop, daemon=True,
                                   args=(config, w, index_queue, self._results, self._done,
                                         pack(rng[w])))
                self._index_queues.append(index_queue)
                proc.start()
                self._workers.append(proc)
        except BaseException:
            self._shutdown_workers()
            raise
        self._start_tasks(self._position.batches_yielded)

    # ------------------------------------------------------------------ epochs
    def restart(self, loader, plan: ResumePlan | None) -> None:
        """A new epoch on the same (persistent) workers; random states to give them come from
        ``plan``, otherwise each worker keeps its own."""
        for w, index_queue in enumerate(self._index_queues):
            give = plan.worker_rng[w] if plan is not None and plan.worker_rng else None
            index_queue.put(Restart(pack(give)))
        current = [None] * self._num_workers
        pending = self._num_workers
        while pending:
            tag, worker, _ = self._get_result()
            if isinstance(tag, Restart):
                current[worker] = unpack(tag.rng)
                pending -= 1
        self._begin_epoch(loader, plan, carried_rng=current, base_seed=self._base_seed)
        if plan is not None and plan.base_seed is not None and plan.base_seed != self._base_seed:
            warnings.warn("the DataLoader state was saved by workers started from another base "
                          "seed; these persistent workers keep theirs", stacklevel=3)
        self._start_tasks(self._position.batches_yielded)

    def _start_tasks(self, first_task: int) -> None:
        self._send_idx = self._rcvd_idx = first_task
        self._tasks = {}  # task index -> [worker] or [worker, (data, rng)]
        self._active = [True] * self._num_workers
        self._worker_tasks = [0] * self._num_workers
        self._next_worker = first_task % self._num_workers
        for _ in range(self._prefetch * self._num_workers):
            self._try_put_index()

    # ------------------------------------------------------------------ tasks
    def _try_put_index(self) -> None:
        limit = self._prefetch * self._num_workers
        try:
            index = next(self._indices)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            w = self._next_worker
            self._next_worker = (w + 1) % self._num_workers
            if self._active[w] and (self._in_order or
                                    self._worker_tasks[w] < limit // sum(self._active)):
                break
        else:
            return
        self._index_queues[w].put((self._send_idx, index))
        self._tasks[self._send_idx] = [w]
        self._worker_tasks[w] += 1
        self._send_idx += 1

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._tasks.get(self._rcvd_idx)
                if info and (len(info) == 2 or self._active[info[0]]):
                    break
                self._tasks.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(info) == 2:
                w, result = self._tasks.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process(w, *result)
            task, data, rng = self._get_result()
            if isinstance(data, Exhausted):
                self._retire(data.worker_id)
                self._try_put_index()
                continue
            if task != self._rcvd_idx:
                if not self._in_order:
                    return self._process(self._tasks.pop(task)[0], data, rng)
                self._tasks[task].append((data, rng))
                continue
            w = self._tasks.pop(task)[0]
            self._rcvd_idx += 1
            return self._process(w, data, rng)

    def _process(self, worker: int, data, rng):
        self._worker_tasks[worker] -= 1
        self._try_put_index()
        if isinstance(data, WorkerFailure):
            data.reraise()
        if rng is not None:
            self._position.worker_rng[worker] = unpack(rng)
        return unpack(data)

    def _retire(self, worker: int) -> None:
        self._active[worker] = False
        if not self._persistent:
            self._index_queues[worker].put(None)

    # ------------------------------------------------------------------ results
    def _get_result(self):
        if self._timeout > 0:
            got, result = self._try_get(self._timeout)
            if not got:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return result
        while True:
            got, result = self._try_get(POLL_INTERVAL)
            if got:
                return result

    def _try_get(self, timeout: float):
        try:
            return True, receive(self._results.get(timeout=timeout))
        except Exception as exc:
            dead = [p for w, p in enumerate(self._workers)
                    if self._active[w] and not p.is_alive()]
            if dead:
                for w, p in enumerate(self._workers):
                    if p in dead:
                        self._active[w] = False
                pids = ", ".join(str(p.pid) for p in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") \
                    from exc
            if isinstance(exc, queue.Empty):
                return False, None
            raise

    # ------------------------------------------------------------------ shutdown
    def _shutdown_workers(self) -> None:
        if self._shutdown or _exiting[0]:
            return
        self._shutdown = True
        self._done.set()
        for index_queue in self._index_queues:
            index_queue.put(None)
        for proc in self._workers:
            proc.join(timeout=POLL_INTERVAL)
        for index_queue in self._index_queues:
            index_queue.cancel_join_thread()
            index_queue.close()
        for proc in self._workers:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=POLL_INTERVAL)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._results.cancel_join_thread()
        self._results.close()

    def __del__(self) -> None:
        try:
            self._shutdown_workers()
        except Exception:  # noqa: BLE001 - interpreter teardown; the workers are daemons
            pass


"""DataLoader worker processes against torch's: seeding, round-robin assignment, bounded
prefetch, persistent workers, timeouts, errors, shutdown, start methods and warnings."""
import gc
import multiprocessing
import os
import random
import time
import warnings

import numpy as np
import pytest
from torch.utils.data._utils.worker import _generate_state

import numtorch
from _spawnable import EnvProbe, init_marks_worker
from harness import compare, differential


# ---------------------------------------------------------------- datasets (module level: spawn)
class Numbers:
    """Map-style: item i is i (works with either library's DataLoader)."""

    def __init__(self, n: int = 6) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return i


class WhoLoads(Numbers):
    """Item i is (i, id of the worker that loaded it); worker 0 is slow on its first item, so
    free-worker scheduling would hand the next batches to worker 1."""

    def __init__(self, T, n: int = 8) -> None:
        super().__init__(n)
        self.T = T

    def __getitem__(self, i):
        info = self.T.utils.data.get_worker_info()
        if i == 0:
            time.sleep(0.1)
        return i, info.id


class SeedProbe(Numbers):
    """What a worker's generators give on the first draw after seeding."""

    def __init__(self, T) -> None:
        super().__init__(4)
        self.T = T

    def __getitem__(self, i):
        info = self.T.utils.data.get_worker_info()
        return info.id, info.seed, random.random(), float(np.random.random_sample()), \
            float(self.T.rand(1)), type(info).__name__, info.num_workers


class Counting(Numbers):
    def __init__(self, counter, n: int = 20) -> None:
        super().__init__(n)
        self.counter = counter

    def __getitem__(self, i):
        with self.counter.get_lock():
            self.counter.value += 1
        return i


class Pids(Numbers):
    def __getitem__(self, i):
        return os.getpid()


class Slow(Numbers):
    def __getitem__(self, i):
        time.sleep(0.4)
        return i


class Missing(Numbers):
    def __getitem__(self, i):
        return {}["key"]


class Dies(Numbers):
    def __getitem__(self, i):
        os._exit(3)


def _stream_class(T):
    class Stream(T.utils.data.IterableDataset):
        def __init__(self, n=10, fail_at=None):
            self.n, self.fail_at = n, fail_at

        def __iter__(self):
            info = T.utils.data.get_worker_info()
            wid, workers = (0, 1) if info is None else (info.id, info.num_workers)
            for i in range(wid, self.n, workers):
                if i == self.fail_at:
                    raise ValueError(f"bad item {i}")
                yield i
    return Stream


def _batches(loader):
    return [b.tolist() if hasattr(b, "tolist") else b for b in loader]


# ---------------------------------------------------------------- scheduling and seeding
@differential
def test_batch_i_goes_to_worker_i_mod_n(T):
    dl = T.utils.data.DataLoader(WhoLoads(T), batch_size=1, num_workers=2)
    return [[int(i), int(w)] for i, w in dl]


@differential
def test_worker_generators_are_seeded_as_torch_seeds_them(T):
    dl = T.utils.data.DataLoader(SeedProbe(T), batch_size=None, num_workers=2,
                                 generator=T.Generator().manual_seed(5))
    checks = []
    for wid, seed, py, npv, tv, info_type, n in dl:
        base = seed - wid
        checks.append((info_type, n, py == random.Random(seed).random(),
                       npv == np.random.RandomState(_generate_state(base, wid)).random_sample(),
                       tv == float(T.rand(1, generator=T.Generator().manual_seed(seed)))))
    return checks


def test_numpy_seed_words_equal_torchs_derivation():
    from numtorch.utils.data._worker import numpy_seed_words
    for base, wid in [(0, 0), (1, 1), (2 ** 32 + 7, 3), (2 ** 63 - 1, 15), (123456789, 2)]:
        assert numpy_seed_words(base, wid) == _generate_state(base, wid)


@differential
def test_worker_info_is_none_in_main_process(T):
    return T.utils.data.get_worker_info()


def test_worker_side_randomness_is_reproducible_run_to_run():
    def run():
        numtorch.manual_seed(3)
        dl = numtorch.utils.data.DataLoader(SeedProbe(numtorch), batch_size=None, num_workers=2)
        return [row[2:5] for row in dl]
    assert run() == run()


@pytest.mark.parametrize("prefetch_factor", [1, None])
@pytest.mark.parametrize("library", ["torch", "numtorch"])
def test_prefetch_bounds_batches_in_flight(library, prefetch_factor):
    """Both libraries: after one batch is taken, exactly prefetch_factor * num_workers + 1
    batches have been loaded, however long one waits."""
    T = __import__(library)
    counter = multiprocessing.get_context("fork").Value("i", 0)
    dl = T.utils.data.DataLoader(Counting(counter), batch_size=1, num_workers=2,
                                 prefetch_factor=prefetch_factor)
    expected = 2 * (prefetch_factor or 2) + 1
    it = iter(dl)
    next(it)
    deadline = time.monotonic() + 5
    while counter.value < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # time to overshoot, were loading unbounded
    loaded = counter.value
    del it
    assert loaded == expected


# ---------------------------------------------------------------- persistent workers
@differential
def test_persistent_workers_survive_epochs_and_keep_their_seeds(T):
    def epoch_pids(dl):
        return sorted({int(p) for p in dl})
    persistent = T.utils.data.DataLoader(Pids(4), num_workers=2, persistent_workers=True)
    fresh = T.utils.data.DataLoader(Pids(4), num_workers=2)
    a, b = epoch_pids(persistent), epoch_pids(persistent)
    c, d = epoch_pids(fresh), epoch_pids(fresh)
    return a == b, c == d, len(a)


def test_persistent_workers_run_worker_init_fn_once():
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)

    def init(worker_id):
        with counter.get_lock():
            counter.value += 1
    dl = numtorch.utils.data.DataLoader(Numbers(4), batch_size=None, num_workers=2,
                                        worker_init_fn=init, persistent_workers=True)
    assert [_batches(dl) for _ in range(3)] == [[0, 1, 2, 3]] * 3
    assert counter.value == 2
    fresh = numtorch.utils.data.DataLoader(Numbers(4), batch_size=None, num_workers=2,
                                           worker_init_fn=init)
    [_batches(fresh) for _ in range(2)]
    assert counter.value == 6


@differential
def test_persistent_workers_restart_an_iterable_stream(T):
    dl = T.utils.data.DataLoader(_stream_class(T)(), batch_size=3, num_workers=2,
                                 persistent_workers=True)
    return _batches(dl), _batches(dl)


@differential
def test_iterable_dataset_batches_with_workers(T):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # more workers than cores on small machines
        return _batches(T.utils.data.DataLoader(_stream_class(T)(11), batch_size=2,
                                                num_workers=3))


@differential
def test_worker_init_fn_gets_each_worker_id(T):
    return _batches(T.utils.data.DataLoader(EnvProbe(4), batch_size=None, num_workers=2,
                                            worker_init_fn=init_marks_worker))


# ---------------------------------------------------------------- timeouts and errors
@differential(match_message=True)
def test_timeout_map_style(T):
    next(iter(T.utils.data.DataLoader(Slow(2), num_workers=1, timeout=0.2)))


def test_timeout_iterable_dataset():
    class SlowStream(numtorch.utils.data.IterableDataset):
        def __iter__(self):
            time.sleep(0.4)
            yield 1
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.1 seconds$"):
        list(numtorch.utils.data.DataLoader(SlowStream(), num_workers=1, timeout=0.1))


@differential(match_message=True)
def test_timeout_without_workers_is_torchs_assertion(T):
    iter(T.utils.data.DataLoader(Numbers(), timeout=0.5))


def _caught(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        lines = str(exc).splitlines()
        exc.__traceback__ = None  # torch's re-raising frame holds it: let its workers stop now
        return type(exc).__name__, lines[:2], lines[-1]
    return None


@differential
def test_map_worker_error_keeps_type_and_says_where(T):
    return _caught(lambda: list(T.utils.data.DataLoader(Missing(), num_workers=1)))


@differential
def test_iterable_worker_error_keeps_type_and_says_where(T):
    ds = _stream_class(T)(6, fail_at=3)
    return _caught(lambda: list(T.utils.data.DataLoader(ds, num_workers=2)))


@differential
def test_worker_init_fn_error_is_raised_with_first_batch(T):
    def init(worker_id):
        raise RuntimeError(f"init failed in {worker_id}")
    return _caught(lambda: list(T.utils.data.DataLoader(Numbers(), num_workers=1,
                                                         worker_init_fn=init)))


def test_dead_worker_is_reported():
    dl = numtorch.utils.data.DataLoader(Dies(), num_workers=1)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly"):
        list(dl)


# ---------------------------------------------------------------- shutdown
def _gone(pids) -> bool:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def test_workers_stop_when_the_loop_breaks_or_the_iterator_is_dropped():
    dl = numtorch.utils.data.DataLoader(Pids(8), num_workers=2)
    for pid in dl:
        break
    assert _gone([int(pid)])
    it = iter(dl)
    pids = {int(next(it)), int(next(it))}
    del it
    assert len(pids) == 2 and _gone(pids)
    pids = {int(p) for p in dl}
    assert _gone(pids)


def test_workers_stop_with_the_epoch_and_state_survives():
    dl = numtorch.utils.data.DataLoader(Pids(4), num_workers=2)
    pids = {int(p) for p in dl}
    assert _gone(pids)
    assert dl.state_dict()["finished"] is True


# ---------------------------------------------------------------- start methods
def test_spawn_context_pickles_what_workers_need():
    dl = numtorch.utils.data.DataLoader(EnvProbe(5), batch_size=2, num_workers=1,
                                        multiprocessing_context="spawn",
                                        worker_init_fn=init_marks_worker,
                                        generator=numtorch.Generator().manual_seed(0))
    assert [[t.tolist() for t in b] for b in dl] == [[[0, 0], [0, 1]], [[0, 0], [2, 3]],
                                                    [[0], [4]]]


@pytest.mark.parametrize("context", ["spawn", "bad", 3])
@differential(match_message=True)
def test_multiprocessing_context_errors(T, context):
    T.utils.data.DataLoader(Numbers(), num_workers=0 if context == "spawn" else 1,
                            multiprocessing_context=context)


@differential
def test_multiprocessing_context_object_is_accepted(T):
    ctx = multiprocessing.get_context("fork")
    dl = T.utils.data.DataLoader(Numbers(4), num_workers=1, multiprocessing_context=ctx)
    return dl.multiprocessing_context is ctx, _batches(dl)


# ---------------------------------------------------------------- options and warnings
def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category.__name__, str(w.message)) for w in caught]


@differential
def test_pin_memory_warns_as_torch_without_an_accelerator(T):
    ds = T.utils.data.TensorDataset(T.arange(4))
    return (_warnings_of(lambda: list(T.utils.data.DataLoader(ds, pin_memory=True))),
            _warnings_of(lambda: list(T.utils.data.DataLoader(ds, pin_memory=True,
                                                              pin_memory_device="cuda"))),
            [b[0] for b in _quietly(T.utils.data.DataLoader(ds, batch_size=2, pin_memory=True))])


def _quietly(loader):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(loader)


@differential
def test_too_many_workers_warns(T):
    return _warnings_of(lambda: T.utils.data.DataLoader(Numbers(), num_workers=512))


@pytest.mark.parametrize("make", [
    lambda T: T.utils.data.DataLoader(Numbers(), num_workers=1, prefetch_factor=-1),
    lambda T: T.utils.data.DataLoader(Numbers(), prefetch_factor=2),
    lambda T: T.utils.data.DataLoader(Numbers(), persistent_workers=True),
    lambda T: T.utils.data.DataLoader(Numbers(), num_workers=-1),
    lambda T: T.utils.data.DataLoader(Numbers(), timeout=-1),
], ids=["prefetch<0", "prefetch-no-workers", "persistent-no-workers",
        "workers<0", "timeout<0"])
@differential(match_message=True)
def test_worker_option_errors(T, make):
    make(T)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_prefetch_factor_zero_is_torchs_assertion():
    import torch
    messages = []
    for T in (torch, numtorch):
        with pytest.raises(AssertionError) as caught:
            iter(T.utils.data.DataLoader(Numbers(), num_workers=1, prefetch_factor=0))
        messages.append(str(caught.value))
        del caught
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gc.collect()  # torch's half-built iterator fails in __del__: let it here, not later
    assert messages[1] == messages[0] == ("prefetch_factor must be greater than 0 for "
                                          "MultiProcessingDataLoaderIter")


@differential
def test_in_order_false_gives_every_batch(T):
    dl = T.utils.data.DataLoader(WhoLoads(T, 6), batch_size=1, num_workers=2, in_order=False)
    return sorted(int(i) for i, _ in dl)


def test_prefetch_factor_attribute():
    compare(lambda T: (T.utils.data.DataLoader(Numbers(), num_workers=2).prefetch_factor,
                       T.utils.data.DataLoader(Numbers()).prefetch_factor))

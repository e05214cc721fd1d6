"""DataLoader.state_dict()/load_state_dict(): a restored loader continues exactly where the
saved one stood (mid-epoch or after a finished epoch), drawing nothing extra from any generator,
with workers' random states restored too."""
import random
import warnings

import numpy as np
import pytest

import numtorch as T
from numtorch.checkpoint import capture_rng_state, restore_rng_state
from numtorch.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset,
                                 RandomSampler, Sampler, SubsetRandomSampler, TensorDataset,
                                 WeightedRandomSampler, get_worker_info)

DS = TensorDataset(T.arange(40))


class Noisy(Dataset):
    """Items carry randomness drawn where they are loaded (numtorch, random, NumPy)."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return (float(i) + float(T.rand(1)), random.random(), float(np.random.rand()),
                -1 if info is None else info.id)


def _rows(batches):
    return [[t.tolist() if hasattr(t, "tolist") else t for t in b] for b in batches]


def _rng():
    """Every process-wide random state, comparable with ==."""
    state = capture_rng_state()
    return (state["numtorch"].numpy().tobytes(), state["python"]["state"],
            state["numpy"]["keys"].numpy().tobytes(), state["numpy"]["pos"], state)


def _interrupted(make, stop: int):
    """Iterate a fresh loader for ``stop`` batches; return what it gave, its state and the
    global RNG state at that moment, then what the rest of the uninterrupted epoch gave and the
    global RNG state after it."""
    loader = make()
    it = iter(loader)
    head = [next(it) for _ in range(stop)]
    state, rng = loader.state_dict(), _rng()
    tail = list(it)
    return head, state, rng, tail, _rng()


def _resumed(make, state, rng):
    restore_rng_state(rng[-1])
    loader = make()
    loader.load_state_dict(state)
    return list(loader), _rng(), loader


@pytest.mark.parametrize("workers", [0, 2])
def test_mid_epoch_resume_without_generator_leaves_global_rng_exact(workers):
    def make():
        return DataLoader(Noisy(), batch_size=2, shuffle=True, num_workers=workers)
    T.manual_seed(0)
    _, state, rng, tail, rng_after = _interrupted(make, 3)
    resumed, rng_resumed, _ = _resumed(make, state, rng)
    assert _rows(resumed) == _rows(tail)
    assert rng_resumed[:-1] == rng_after[:-1]
    if workers:  # batches came from both workers, each resumed mid-stream
        assert {int(w) for b in resumed for w in b[3].tolist()} == {0, 1}


def test_mid_epoch_resume_draws_the_next_epoch_as_the_uninterrupted_run():
    def make():
        return DataLoader(DS, batch_size=8, shuffle=True)
    T.manual_seed(1)
    loader = make()
    it = iter(loader)
    next(it)
    state, rng = loader.state_dict(), _rng()
    list(it)
    next_epoch = _rows(loader)
    restore_rng_state(rng[-1])
    again = make()
    again.load_state_dict(state)
    list(again)
    assert _rows(again) == next_epoch


@pytest.mark.parametrize("generator", [True, False])
def test_resume_after_a_finished_epoch_gives_the_next_epoch(generator):
    def make(seed=3):
        g = T.Generator().manual_seed(seed) if generator else None
        return DataLoader(DS, batch_size=16, shuffle=True, generator=g)
    T.manual_seed(2)
    loader = make()
    list(loader)
    state, rng = loader.state_dict(), _rng()
    assert state["finished"] is True
    second = _rows(loader)
    restore_rng_state(rng[-1])
    fresh = make(seed=99)
    fresh.load_state_dict(state)
    assert _rows(fresh) == second and len(second) == 3


def test_state_from_before_the_finished_flag_still_starts_the_next_epoch():
    loader = DataLoader(DS, batch_size=16, shuffle=True, generator=T.Generator().manual_seed(4))
    list(loader)
    state = {k: loader.state_dict()[k] for k in ("epoch_state", "batches_yielded")}
    expected = _rows(loader)
    fresh = DataLoader(DS, batch_size=16, shuffle=True, generator=T.Generator().manual_seed(4))
    list(fresh)
    fresh.load_state_dict(state)
    assert _rows(fresh) == expected


def test_resume_with_a_custom_batch_sampler_replays_its_sampler():
    def make(seed=5):
        g = T.Generator().manual_seed(seed)
        return DataLoader(DS, batch_sampler=BatchSampler(RandomSampler(DS, generator=g), 4,
                                                         False))
    _, state, rng, tail, _ = _interrupted(make, 3)
    resumed, _, _ = _resumed(lambda: make(seed=77), state, rng)
    assert _rows(resumed) == _rows(tail) and len(tail) == 7


class GeneratorSampler(Sampler):
    """A user's sampler written torch-style: draws from ``self.generator``."""

    def __init__(self, n: int, generator) -> None:
        self.n, self.generator = n, generator

    def __iter__(self):
        yield from T.randperm(self.n, generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.n


@pytest.mark.parametrize("kind", ["subset", "weighted", "replacement", "custom"])
def test_resume_replays_every_random_sampler(kind):
    def make(seed=6):
        g = T.Generator().manual_seed(seed)
        sampler = {"subset": lambda: SubsetRandomSampler(list(range(0, 40, 2)), generator=g),
                   "weighted": lambda: WeightedRandomSampler([1.0] * 20 + [3.0] * 20, 30,
                                                             generator=g),
                   "replacement": lambda: RandomSampler(DS, replacement=True, num_samples=50,
                                                        generator=g),
                   "custom": lambda: GeneratorSampler(40, g)}[kind]()
        return DataLoader(DS, batch_size=4, sampler=sampler)
    _, state, rng, tail, _ = _interrupted(make, 2)
    resumed, _, _ = _resumed(lambda: make(seed=42), state, rng)
    assert _rows(resumed) == _rows(tail)


def test_persistent_workers_resume_after_an_epoch_with_their_random_states():
    def make():
        return DataLoader(Noisy(), batch_size=3, shuffle=True, num_workers=2,
                          persistent_workers=True, generator=T.Generator().manual_seed(8))
    loader = make()
    list(loader)
    state = loader.state_dict()
    second = _rows(loader)
    fresh = make()
    fresh.load_state_dict(state)
    assert _rows(fresh) == second
    assert state["persistent_workers"] is True and len(state["worker_rng"]) == 2


def test_persistent_workers_resume_mid_epoch():
    def make():
        return DataLoader(Noisy(), batch_size=2, num_workers=2, persistent_workers=True,
                          generator=T.Generator().manual_seed(9))
    loader = make()
    list(loader)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    tail = _rows(it)
    fresh = make()
    fresh.load_state_dict(state)
    assert _rows(fresh) == tail


def test_resume_with_other_worker_count_warns_and_keeps_batches():
    def make(workers):
        return DataLoader(DS, batch_size=5, shuffle=True, num_workers=workers,
                          generator=T.Generator().manual_seed(10))
    _, state, rng, tail, _ = _interrupted(lambda: make(0), 2)
    state["worker_rng"] = [None, {"unused": 1}]
    with pytest.warns(UserWarning, match="saved with 2 workers and this DataLoader has 0"):
        resumed, _, _ = _resumed(lambda: make(0), state, rng)
    assert _rows(resumed) == _rows(tail)


def test_state_survives_a_file_round_trip(tmp_path):
    def make():
        return DataLoader(Noisy(), batch_size=2, shuffle=True, num_workers=2)
    T.manual_seed(11)
    _, state, rng, tail, rng_after = _interrupted(make, 3)
    T.save(state, tmp_path / "loader.pt")
    resumed, rng_resumed, _ = _resumed(make, T.load(tmp_path / "loader.pt", weights_only=True),
                                       rng)
    assert _rows(resumed) == _rows(tail)
    assert rng_resumed[:-1] == rng_after[:-1]


def test_state_before_iterating_is_a_fresh_start():
    loader = DataLoader(DS, batch_size=8, shuffle=True)
    state = loader.state_dict()
    assert state["batches_yielded"] == 0 and state["finished"] is False
    T.manual_seed(12)
    expected = _rows(DataLoader(DS, batch_size=8, shuffle=True))
    T.manual_seed(12)
    loader.load_state_dict(state)
    assert _rows(loader) == expected


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(6))


def test_iterable_dataset_resumes_at_epoch_boundaries_only():
    loader = DataLoader(Stream(), batch_size=2)
    it = iter(loader)
    next(it)
    with pytest.raises(ValueError, match="resuming an IterableDataset mid-epoch"):
        DataLoader(Stream(), batch_size=2).load_state_dict(loader.state_dict())
    list(it)
    fresh = DataLoader(Stream(), batch_size=2)
    fresh.load_state_dict(loader.state_dict())
    assert [b.tolist() for b in fresh] == [[0, 1], [2, 3], [4, 5]]


def test_out_of_order_loading_cannot_save_mid_epoch():
    loader = DataLoader(DS, batch_size=8, num_workers=2, in_order=False)
    it = iter(loader)
    next(it)
    with pytest.raises(ValueError, match="in_order=False"):
        loader.state_dict()
    list(it)
    assert loader.state_dict()["finished"] is True


@pytest.mark.parametrize("state, error, words", [
    ([1, 2], TypeError, "expects a dict from state_dict"),
    ({"batches_yielded": -1}, ValueError, "non-negative integer"),
    ({"batches_yielded": 1.5}, ValueError, "non-negative integer"),
])
def test_bad_states_are_refused(state, error, words):
    with pytest.raises(error, match=words):
        DataLoader(DS).load_state_dict(state)


def test_loader_with_no_randomness_resumes():
    loader = DataLoader(DS, batch_size=6)
    it = iter(loader)
    next(it)
    next(it)
    state = loader.state_dict()
    tail = _rows(it)
    fresh = DataLoader(DS, batch_size=6)
    fresh.load_state_dict(state)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _rows(fresh) == tail


def test_live_persistent_workers_rewind_to_a_loaded_state():
    loader = DataLoader(Noisy(), batch_size=2, shuffle=True, num_workers=2,
                        persistent_workers=True, generator=T.Generator().manual_seed(13))
    list(loader)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    tail = _rows(it)
    loader.load_state_dict(state)
    assert _rows(loader) == tail and len(tail) == 5

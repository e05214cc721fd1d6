"""numtorch.utils.data against torch.utils.data: same batches where the algorithms allow."""
import collections

import numpy as np
import pytest

from harness import differential


def _data(T):
    return T.utils.data


@differential
def test_sequential_batches_tensor_dataset(T):
    ds = _data(T).TensorDataset(T.arange(10), T.arange(10) * 2.0)
    return [b for b in _data(T).DataLoader(ds, batch_size=4)]


@differential
def test_drop_last_and_len(T):
    ds = _data(T).TensorDataset(T.arange(10))
    dl = _data(T).DataLoader(ds, batch_size=3, drop_last=True)
    return len(dl), list(dl)


@differential
def test_batch_size_none_converts_without_batching(T):
    class DS(_data(T).Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full((2,), i, dtype=np.float32)
    return list(_data(T).DataLoader(DS(), batch_size=None))


@differential
def test_default_collate_nested(T):
    Point = collections.namedtuple("Point", "x y")
    batch = [{"a": 1, "b": 2.5, "c": np.ones(2, dtype=np.float32), "d": (True, "s"),
              "p": Point(1, 2.0), "l": [np.int64(3), 4]},
             {"a": 2, "b": 3.5, "c": np.zeros(2, dtype=np.float32), "d": (False, "t"),
              "p": Point(3, 4.0), "l": [np.int64(5), 6]}]
    out = _data(T).default_collate(batch)
    return out["a"], out["b"], out["c"], out["d"], tuple(out["p"]), type(out["p"]).__name__, \
        out["l"]


@differential
def test_default_collate_errors(T):
    return _data(T).default_collate([[1, 2], [3]])


@differential
def test_batch_sampler_and_sequential_sampler(T):
    d = _data(T)
    return (list(d.BatchSampler(d.SequentialSampler(range(10)), 3, False)),
            list(d.BatchSampler(d.SequentialSampler(range(10)), 3, True)),
            len(d.BatchSampler(range(10), 4, False)))


@differential
def test_batch_sampler_bad_args(T):
    return _data(T).BatchSampler(range(3), 0, False)


@differential
def test_subset_concat(T):
    d = _data(T)
    ds = d.TensorDataset(T.arange(6))
    cat = d.ConcatDataset([ds, d.Subset(ds, [5, 0])])
    return len(cat), [cat[i] for i in range(len(cat))], cat[-1]


@differential
def test_random_split_lengths(T):
    d = _data(T)
    parts = d.random_split(range(10), [0.5, 0.3, 0.2], generator=T.Generator().manual_seed(1))
    return [len(p) for p in parts], sorted(i for p in parts for i in p.indices)


@differential
def test_random_split_bad_lengths(T):
    return _data(T).random_split(range(10), [3, 3])


@differential
def test_shuffle_with_sampler_is_error(T):
    d = _data(T)
    return d.DataLoader(range(4), shuffle=True, sampler=d.SequentialSampler(range(4)))


def test_shuffle_is_a_permutation_and_reproducible():
    import numtorch as T
    d = T.utils.data
    ds = d.TensorDataset(T.arange(50))
    runs = []
    for _ in range(2):
        g = T.Generator().manual_seed(7)
        runs.append([b[0].tolist() for b in d.DataLoader(ds, batch_size=8, shuffle=True,
                                                          generator=g)])
    assert runs[0] == runs[1]
    flat = sorted(x for b in runs[0] for x in b)
    assert flat == list(range(50))
    assert [x for b in runs[0] for x in b] != list(range(50))


def test_weighted_sampler_respects_zero_weights():
    import numtorch as T
    s = T.utils.data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200,
                                           generator=T.Generator().manual_seed(0))
    draws = list(s)
    assert set(draws) <= {1, 3} and len(draws) == 200
    assert 0.6 < draws.count(3) / 200 < 0.9


def test_workers_give_same_batches_as_main_process():
    import numtorch as T
    d = T.utils.data
    ds = d.TensorDataset(T.arange(37).float(), T.arange(37))
    g1, g2 = T.Generator().manual_seed(3), T.Generator().manual_seed(3)
    a = [[t.tolist() for t in b] for b in d.DataLoader(ds, batch_size=5, shuffle=True,
                                                      generator=g1)]
    b = [[t.tolist() for t in b] for b in d.DataLoader(ds, batch_size=5, shuffle=True,
                                                      generator=g2, num_workers=2)]
    assert a == b


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")
def test_worker_info_and_iterable_dataset_sharding():
    import numtorch as T
    d = T.utils.data

    class Stream(d.IterableDataset):
        def __iter__(self):
            info = d.get_worker_info()
            wid, n = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(wid, 12, n))
    got = sorted(x for b in d.DataLoader(Stream(), batch_size=2, num_workers=3)
                 for x in b.tolist())
    assert got == list(range(12))
    assert d.get_worker_info() is None


def test_resume_mid_epoch_continues_with_the_same_batches():
    import numtorch as T
    d = T.utils.data
    ds = d.TensorDataset(T.arange(40))
    g = T.Generator().manual_seed(11)
    loader = d.DataLoader(ds, batch_size=4, shuffle=True, generator=g)
    it = iter(loader)
    first = [next(it)[0].tolist() for _ in range(3)]
    state = loader.state_dict()
    rest = [b[0].tolist() for b in it]
    fresh = d.DataLoader(ds, batch_size=4, shuffle=True, generator=T.Generator().manual_seed(99))
    fresh.load_state_dict(state)
    resumed = [b[0].tolist() for b in fresh]
    assert resumed == rest
    assert len(first) + len(resumed) == 10


# ------------------------------------------------------------------ DataLoader vs torch
class _Items:
    """Map-style dataset of dict samples (either library collates it)."""

    def __init__(self, n=7):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i, "name": f"s{i}"}


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=7),
    dict(batch_size=10), dict(batch_size=None), dict(batch_size=2, sampler=[6, 0, 3, 3, 1]),
    dict(batch_sampler=[[4, 0], [2], [6, 5, 1]]),
    dict(batch_size=None, sampler=[2, 5]),
], ids=["3", "3-drop", "7", "10", "none", "sampler", "batch_sampler", "none-sampler"])
@differential
def test_batches_equal_torchs(T, kwargs):
    dl = T.utils.data.DataLoader(_Items(), **kwargs)
    return len(dl), list(dl)


@differential
def test_batches_equal_torchs_with_batch_sampler_object(T):
    d = T.utils.data
    ds = d.TensorDataset(T.arange(10), T.arange(10) * 0.5)
    sampler = d.BatchSampler(d.SequentialSampler(ds), 4, drop_last=False)
    return len(d.DataLoader(ds, batch_sampler=sampler)), list(d.DataLoader(ds,
                                                                            batch_sampler=sampler))


@differential
def test_custom_collate_fn_and_getitems(T):
    d = T.utils.data

    class Batched(d.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return i

        def __getitems__(self, indices):
            return [i * 10 for i in indices]
    return list(d.DataLoader(Batched(), batch_size=2, collate_fn=lambda b: tuple(b)))


@pytest.mark.parametrize("make", [
    lambda T, d, ds: d.DataLoader(ds, batch_size=0),
    lambda T, d, ds: d.DataLoader(ds, batch_size=-2),
    lambda T, d, ds: d.DataLoader(ds, batch_size=2.5),
    lambda T, d, ds: d.DataLoader(ds, drop_last=1),
    lambda T, d, ds: d.DataLoader(ds, shuffle=True, sampler=[0, 1]),
    lambda T, d, ds: d.DataLoader(ds, batch_sampler=[[0]], batch_size=2),
    lambda T, d, ds: d.DataLoader(ds, batch_sampler=[[0]], shuffle=True),
    lambda T, d, ds: d.DataLoader(ds, batch_sampler=[[0]], drop_last=True),
    lambda T, d, ds: d.DataLoader(ds, batch_sampler=[[0]], sampler=[0]),
    lambda T, d, ds: d.DataLoader(ds, batch_size=None, drop_last=True),
    lambda T, d, ds: d.DataLoader(_stream(d)(), shuffle=True),
    lambda T, d, ds: d.DataLoader(_stream(d)(), sampler=[0]),
    lambda T, d, ds: d.DataLoader(_stream(d)(), batch_sampler=[[0]]),
    lambda T, d, ds: setattr(d.DataLoader(ds), "batch_size", 4),
    lambda T, d, ds: setattr(d.DataLoader(ds), "dataset", ds),
], ids=["bs0", "bs-2", "bs2.5", "drop_last1", "sampler+shuffle", "bsampler+bs",
        "bsampler+shuffle", "bsampler+drop", "bsampler+sampler", "none+drop",
        "iter+shuffle", "iter+sampler", "iter+bsampler", "set-batch_size", "set-dataset"])
@differential(match_message=True)
def test_dataloader_bad_arguments(T, make):
    d = T.utils.data
    make(T, d, d.TensorDataset(T.arange(4)))


def _stream(d):
    class Stream(d.IterableDataset):
        def __iter__(self):
            return iter(range(5))
    return Stream


@differential
def test_iterable_dataset_batches_and_len(T):
    d = T.utils.data
    with_len = type("Sized", (_stream(d),), {"__len__": lambda self: 5})
    dl = d.DataLoader(with_len(), batch_size=2)
    return len(dl), list(dl), list(d.DataLoader(_stream(d)(), batch_size=2, drop_last=True)), \
        list(d.DataLoader(_stream(d)(), batch_size=None))


@differential
def test_settable_attributes_after_init(T):
    dl = T.utils.data.DataLoader(range(4), batch_size=2)
    dl.num_workers = 0
    dl.collate_fn = lambda b: sum(b)
    return list(dl)


# ------------------------------------------------------------------ samplers
def test_subset_random_sampler_permutes_its_indices_reproducibly():
    import numtorch as T
    d = T.utils.data
    indices = [3, 9, 4, 12, 0]
    runs = [list(d.SubsetRandomSampler(indices, generator=T.Generator().manual_seed(2)))
            for _ in range(2)]
    assert runs[0] == runs[1] and sorted(runs[0]) == sorted(indices)
    s = d.SubsetRandomSampler(indices, generator=T.Generator().manual_seed(2))
    epochs = [list(s) for _ in range(4)]
    assert len({tuple(e) for e in epochs}) > 1 and len(s) == 5


def test_random_sampler_with_replacement_and_num_samples():
    import numtorch as T
    d = T.utils.data
    g = T.Generator().manual_seed(0)
    draws = list(d.RandomSampler(range(5), replacement=True, num_samples=400, generator=g))
    assert len(draws) == 400 and set(draws) == set(range(5))
    counts = np.bincount(draws)
    assert counts.min() > 50
    more = list(d.RandomSampler(range(5), num_samples=12, generator=g))
    assert sorted(more[:5]) == sorted(more[5:10]) == list(range(5)) and len(more) == 12
    assert len(set(more[10:])) == 2
    fewer = list(d.RandomSampler(range(8), num_samples=3, generator=g))
    assert len(set(fewer)) == 3


@differential
def test_sampler_lengths(T):
    d = T.utils.data
    return (len(d.RandomSampler(range(5))), len(d.RandomSampler(range(5), num_samples=9)),
            len(d.RandomSampler(range(5), True, 3)), len(d.SubsetRandomSampler([1, 2])),
            len(d.WeightedRandomSampler([1, 2], 7)), d.RandomSampler(range(5)).num_samples)


@pytest.mark.parametrize("make", [
    lambda d: d.RandomSampler(range(3), num_samples=0),
    lambda d: d.RandomSampler(range(3), replacement="yes"),
    lambda d: d.RandomSampler([], replacement=False),
    lambda d: d.WeightedRandomSampler([1.0], 0),
    lambda d: d.WeightedRandomSampler([1.0], 1, replacement=1),
    lambda d: d.WeightedRandomSampler([[1.0, 2.0]], 1),
    lambda d: list(d.WeightedRandomSampler([1.0, -1.0, 2.0], 2)),
    lambda d: list(d.WeightedRandomSampler([1.0, -1.0, 2.0], 2, replacement=False)),
    lambda d: list(d.WeightedRandomSampler([1.0, float("inf")], 2)),
    lambda d: list(d.WeightedRandomSampler([1.0, float("nan")], 2)),
    lambda d: list(d.WeightedRandomSampler([0.0, 0.0], 2)),
    lambda d: list(d.WeightedRandomSampler([1.0, 2.0], 3, replacement=False)),
], ids=["ns0", "repl-str", "empty", "w-ns0", "w-repl-int", "w-2d", "w-neg", "w-neg-norepl",
        "w-inf", "w-nan", "w-zero", "w-too-many"])
@differential(match_message=True)
def test_sampler_errors(T, make):
    make(T.utils.data)


@differential
def test_weighted_sampler_without_replacement_is_a_permutation_zero_weights_last(T):
    d = T.utils.data
    orders = [list(d.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False,
                                           generator=T.Generator().manual_seed(s)))
              for s in range(6)]
    return [(sorted(o), o[-1]) for o in orders]


def test_weighted_sampler_without_replacement_follows_the_weights():
    import numtorch as T
    g = T.Generator().manual_seed(1)
    firsts = [list(T.utils.data.WeightedRandomSampler([1.0, 3.0], 2, replacement=False,
                                                       generator=g))[0] for _ in range(400)]
    assert 0.65 < firsts.count(1) / 400 < 0.85

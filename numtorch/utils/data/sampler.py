"""Samplers: which dataset indices a DataLoader visits, in what order.

Sequential and batch samplers give torch's indices exactly. The random samplers follow torch's
algorithms (a permutation per epoch, draws with replacement, weighted draws with or without
replacement, zero-weight items last) but draw from numtorch's PCG64 generator, not torch's
mt19937, so the same seed gives a different order than torch. Without a ``generator`` every
random sampler draws one seed from numtorch's default generator per epoch and shuffles with a
private generator started from it (torch's SubsetRandomSampler and WeightedRandomSampler draw
from the default generator directly); that private start state is what lets a DataLoader replay
an epoch when it resumes mid-way.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator, Sequence, Sized

import numpy as np

from ... import random as nt_random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


class Sampler:
    """Base class: an iterable over dataset indices."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0 .. len(data_source)-1`` in order (same as torch)."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class _Seeded:
    """Mixin: draws each epoch from a generator whose starting state can be saved and replayed
    (the DataLoader's mid-epoch resume)."""

    generator = None
    epoch_state = None
    _replay_state = None

    def _epoch_generator(self):
        from ...random import Generator
        if self._replay_state is not None:
            state, self._replay_state = self._replay_state, None
            if self.generator is not None:
                self.generator.set_state(state)
                g = self.generator
            else:
                g = Generator().set_state(state)
        elif self.generator is None:
            seed = int(nt_random.numpy_generator(None).integers(0, 2 ** 63 - 1))
            g = nt_random.Generator().manual_seed(seed)
        else:
            g = self.generator
        self.epoch_state = g.get_state()
        return g

    def replay_epoch(self, state) -> None:
        """Make the next ``__iter__`` draw exactly as the epoch that started from ``state``."""
        self._replay_state = state


class RandomSampler(_Seeded, Sampler):
    """A random permutation of the indices per epoch (``num_samples`` of them, in several
    permutations when it exceeds the dataset), or uniform draws with replacement.

    Orders differ from torch's for the same seed: numtorch's generator is not torch's mt19937.
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        g = self._epoch_generator()._np
        if self.replacement:
            yield from g.integers(0, n, self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from g.permutation(n).tolist()
        yield from g.permutation(n).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_Seeded, Sampler):
    """The given indices in a random order."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in self._epoch_generator()._np.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_Seeded, Sampler):
    """Indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        from ..._tensor import _from_array
        self.weights = _from_array(w)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ...random import multinomial
        g = self._epoch_generator()
        yield from multinomial(self.weights, self.num_samples, self.replacement,
                               generator=g).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (same as torch)."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size

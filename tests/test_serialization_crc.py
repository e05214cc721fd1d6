"""CRC-32 in pieces (``serialization/_crc.py``) equals zlib's CRC of the whole, and records
written with it are valid zip members."""
from __future__ import annotations

import io
import os
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numtorch
from numtorch.serialization import _crc, torch_zip


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_combine_equals_crc_of_concatenation(a, b):
    assert _crc.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@pytest.mark.parametrize("total,piece", [(1, 1), (10, 3), (4096, 1024), (5000, 1024),
                                         (1 << 16, 7)])
def test_combine_pieces(total, piece):
    data = os.urandom(total)
    crcs = [zlib.crc32(data[i:i + piece]) for i in range(0, total, piece)]
    assert _crc.crc32_combine_pieces(crcs, total, piece) == zlib.crc32(data)


def test_large_records_written_in_pieces_pass_zip_crc_check(monkeypatch):
    monkeypatch.setattr(torch_zip, "_CRC_PIECE", 1000)
    rng = np.random.default_rng(0)
    state = {"a": numtorch.tensor(rng.standard_normal(12345).astype(np.float32)),
             "b": numtorch.tensor(rng.integers(0, 9, 777))}
    buf = io.BytesIO()
    numtorch.save(state, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert z.testzip() is None  # every member's CRC checks
    buf.seek(0)
    back = numtorch.load(buf)
    for k in state:
        np.testing.assert_array_equal(back[k].numpy(), state[k].numpy())

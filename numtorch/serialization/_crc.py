"""CRC-32 (zip's) of a buffer computed in pieces: the pieces' CRCs combine into the whole's.

``zlib.crc32`` runs on one core at under 1 GB/s, slower than a disk; pieces computed on several
threads (zlib releases the GIL) are joined with ``crc32_combine``, the GF(2) polynomial
arithmetic zlib uses for the same purpose (multiply by x^(8n) modulo the CRC polynomial).
"""
from __future__ import annotations

from functools import lru_cache

__all__ = ["crc32_combine", "crc32_combine_pieces"]

_POLY = 0xEDB88320  # the reflected CRC-32 polynomial


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial (reflected bit order)."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    table = [1 << 30]  # x^1
    for _ in range(31):
        table.append(_multmodp(table[-1], table[-1]))
    return table


_X2N = _powers()  # _X2N[k] = x^(2^k) modulo the polynomial


@lru_cache(maxsize=64)
def _x8n(nbytes: int) -> int:
    """x^(8 * nbytes) modulo the polynomial."""
    p = 1 << 31  # x^0
    k = 3
    while nbytes:
        if nbytes & 1:
            p = _multmodp(_X2N[k & 31], p)
        nbytes >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    return _multmodp(_x8n(len2), crc1) ^ crc2


def crc32_combine_pieces(crcs: list[int], total: int, piece: int) -> int:
    """The CRC-32 of a buffer of ``total`` bytes from the CRCs of its consecutive pieces of
    ``piece`` bytes (the last one shorter)."""
    crc = crcs[0]
    for i, c in enumerate(crcs[1:], 1):
        crc = crc32_combine(crc, c, min(piece, total - i * piece))
    return crc

"""Sets of endpoints as Python integers: bit ``i`` stands for endpoint ``i``.

Unions, intersections and counts over thousands of workloads then run in C rather than
in a Python loop, which keeps the whole-cluster analysis near-linear in practice.
"""

from __future__ import annotations

from collections.abc import Iterable


def to_bits(indices: Iterable[int], size: int) -> int:
    buffer = bytearray(size // 8 + 1)
    for index in indices:
        buffer[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(buffer, "little")


# The set bit positions of every byte value, so a byte is decoded with one lookup.
_BYTE_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))


def from_bits(bits: int) -> list[int]:
    """The indices set in ``bits``, ascending."""
    if not bits:
        return []
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    found: list[int] = []
    table = _BYTE_BITS
    for byte_index, byte in enumerate(data):
        if byte:
            base = byte_index << 3
            found.extend([base + bit for bit in table[byte]])
    return found


def has(bits: int, index: int) -> bool:
    return bits >> index & 1 == 1

"""A KPL aggregated record, built by hand from the format (magic, protobuf AggregatedRecord, MD5) for tests."""

from __future__ import annotations

import hashlib

MAGIC = bytes([0xF3, 0x89, 0x9A, 0xC2])


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    key = _varint((number << 3) | wire_type)
    return key + (_varint(len(payload)) + payload if wire_type == 2 else payload)


def aggregate(records: list[tuple[str, bytes]]) -> bytes:
    """records: (partition key, data). Keys go to the table once each; records point at them by index."""
    keys = list(dict.fromkeys(k for k, _ in records))
    body = b"".join(_field(1, 2, k.encode()) for k in keys)
    for key, data in records:
        record = _field(1, 0, _varint(keys.index(key))) + _field(3, 2, data)
        body += _field(3, 2, record)
    return MAGIC + body + hashlib.md5(body).digest()

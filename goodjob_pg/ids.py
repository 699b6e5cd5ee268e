"""Time-ordered job ids.

Job ids are UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then
random bits, the same layout as the SQL function ``goodjob_uuid_v7()``. Ids
made close in time sit close together in the jobs table's primary key, so
claims and results touch recently used index pages rather than random ones.
"""

from __future__ import annotations

import os
import time
from uuid import UUID

__all__ = ["uuid7"]

_MS_MASK = (1 << 48) - 1
_RAND_MASK = (1 << 80) - 1
_VERSION_MASK = 0xF << 76
_VARIANT_MASK = 0x3 << 62


def uuid7() -> UUID:
    """Return a new version 7 UUID for the current time."""
    millis = time.time_ns() // 1_000_000
    value = (millis & _MS_MASK) << 80 | int.from_bytes(os.urandom(10), "big") & _RAND_MASK
    value = (value & ~_VERSION_MASK) | (0x7 << 76)
    value = (value & ~_VARIANT_MASK) | (0x2 << 62)
    return UUID(int=value)

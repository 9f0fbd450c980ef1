"""A bounded, thread-safe, process-local LRU for values keyed by a digest of their inputs.

Used where the key is a digest of everything the value is computed from (so a change to any
input is a new key, never a stale value): the review plan (`review.plan_cache`) and the
transcript panel (`clips_metadata.sentence_views`). Each process (uvicorn worker) has its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any


def digest(value: Any) -> str:
    """A digest of `repr(value)` (for tuples of str, numbers, None, bool and nested tuples)."""
    return hashlib.blake2b(repr(value).encode(), digest_size=32).hexdigest()


class DigestLRU:
    """A bounded map from digest to value, least recently used out first; counts hits."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

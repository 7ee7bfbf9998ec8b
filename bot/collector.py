"""Keeping CPython's cyclic garbage collector from stalling the event loop.

A full collection walks every tracked object while holding the GIL. With a 100k-subscription
directory and compiled matcher in memory that is millions of objects: a collection triggered
in a worker thread (matching, loading the directory) stalls the event loop for 0.1-0.5 s. So the
heavy phases run with the collector paused, and what they built - long-lived by design (the
directory, the compiled matcher, the day's matches) - is then frozen (`gc.freeze()`): moved to the
permanent generation, which later collections skip. Reference counting still frees frozen objects
that lose their last reference; only garbage *cycles* built during a paused phase stay until the
process ends, which these phases do not make in any quantity.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector inside (any thread, nestable, process-wide), then freeze what
    survived and resume it as it was."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()


def release_in_pieces(*collections: list) -> None:
    """Empty `collections` one element at a time (call it in a worker thread, with the lists'
    only references handed over). Dropping a thousand digests at once is one reference-count
    cascade inside a single bytecode: the GIL is not released until every object is freed, which
    stalls the event loop for 100+ ms; one element at a time lets the interpreter switch threads
    between elements."""
    for items in collections:
        while items:
            items.pop()

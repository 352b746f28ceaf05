"""Keep freed memory in the process for the next sweep chunk (glibc only).

A sweep chunk allocates and frees a few dozen arrays of 1 to 15 MB.  glibc's malloc serves
blocks that big with ``mmap`` and returns freed heap tops to the system, so every chunk faults
about 40 MB of fresh pages in again: about 10,000 page faults and a tenth of a chunk's time,
measured with ``benchmarks/sweep.py``.  :func:`keep_freed_memory` raises glibc's mmap and trim
thresholds, so those blocks come from the heap and stay there for the next chunk.  The process
then keeps the memory of its biggest chunk until it exits, which ``default_chunk_size`` already
budgets for.  Elsewhere (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX).
_MMAP_THRESHOLD = 32 * 2**20
_TRIM_THRESHOLD = 2**30

_lock = threading.Lock()
_done = False


def keep_freed_memory() -> bool:
    """Set glibc's thresholds once per process; True if they are set (now or before)."""
    global _done
    with _lock:
        if _done:
            return True
        if platform.libc_ver()[0] != "glibc":
            return False
        name = ctypes.util.find_library("c")
        if name is None:
            return False
        try:
            mallopt = ctypes.CDLL(name).mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        _done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
        return _done

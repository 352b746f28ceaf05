"""Keep freed memory in the process for the next sweep chunk (glibc only).

A sweep chunk allocates and frees a few dozen arrays of 1 to 15 MB.  glibc's malloc serves
blocks that big with ``mmap`` and returns freed heap tops to the system, so every chunk faults
about 40 MB of fresh pages in again: about 10,000 page faults and a tenth of a chunk's time,
measured with ``benchmarks/sweep.py``.  :func:`keep_freed_memory` raises glibc's mmap and trim
thresholds, so those blocks come from the heap and stay there for the next chunk.  The process
then keeps the memory of its biggest chunk until it exits, which ``default_chunk_size`` already
budgets for, and :func:`release_freed_memory` gives it back once the chunks are done: the
statistics after them allocate arrays of a value a combination (32 MB for four million, under the
mmap threshold), which would otherwise each leave their freed memory in the heap (a four-million
sweep held 1.13 GiB at its end).  Elsewhere (macOS, musl) both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading

__all__ = ["keep_freed_memory", "release_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX).
_MMAP_THRESHOLD = 32 * 2**20
_TRIM_THRESHOLD = 2**30
#: glibc's own thresholds (DEFAULT_MMAP_THRESHOLD_MIN, DEFAULT_TRIM_THRESHOLD), set back by release_freed_memory.
_DEFAULT_THRESHOLD = 128 * 1024

_lock = threading.Lock()
_done = False


def keep_freed_memory() -> bool:
    """Set glibc's thresholds once per process; True if they are set (now or before)."""
    global _done
    with _lock:
        if _done:
            return True
        libc = _glibc()
        if libc is None:
            return False
        mallopt = libc.mallopt
        _done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
        return _done


def release_freed_memory() -> bool:
    """glibc's own thresholds set back and the heap's free memory returned to the system (``malloc_trim``); the
    next :func:`keep_freed_memory` sets them again.  True if done (glibc only)."""
    global _done
    with _lock:
        libc = _glibc()
        if libc is None:
            return False
        _done = False
        libc.mallopt(_M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_THRESHOLD)
        libc.malloc_trim(0)
        return True


def _glibc() -> ctypes.CDLL | None:
    """The C library with ``mallopt`` and ``malloc_trim`` typed, when it is glibc."""
    if platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc

"""How many cores this process may use, the start of every default count of threads and processes.

The CPU affinity where the system reports it (``taskset``, a container's cpuset), else the machine's
count: a process pinned to one core of eight runs its sweeps on one thread, not eight that share it.
"""

from __future__ import annotations

import os

__all__ = ["usable_cores"]


def usable_cores() -> int:
    """The cores this process may run on (at least 1)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - systems without affinity (macOS, Windows)

"""engine.memory: freed big arrays stay in the process instead of being faulted in again."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

SCRIPT = """
import resource, sys
import numpy as np
from engine.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
np.ones(2**20).sum()  # numpy's own start-up allocations
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):  # what a sweep chunk does: several big arrays alive at once, then all freed
    alive = [np.ones(mb * 2**17) for mb in (15, 10, 10, 5, 5, 5)]
    del alive
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")
def test_freed_big_arrays_are_reused_without_page_faults() -> None:
    plain, kept = _faults("plain"), _faults("keep")
    assert plain > 10_000  # glibc gave much of each round back, and it faults in again
    assert kept < plain / 4


RELEASE = """
import sys
import numpy as np
from engine.memory import keep_freed_memory, release_freed_memory
def anon():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("RssAnon"))
assert keep_freed_memory()
alive = [np.ones(mb * 2**17) for mb in (15, 10, 10, 5, 5, 5)] + [np.ones(2**17)]  # the last keeps the heap's top
del alive[:-1]
kept = anon()
if sys.argv[1] == "release":
    assert release_freed_memory()
print(kept - anon())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")
def test_released_memory_goes_back_to_the_system() -> None:
    """After a sweep's chunks the freed arrays kept for them are given back (the statistics after the chunks
    allocate arrays of their own): 50 MB of freed arrays, kept, then returned."""

    def returned(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", RELEASE, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert returned("keep") < 5_000  # KiB: still held
    assert returned("release") > 40_000

"""engine.cores: every default count of threads and processes starts from the cores the process may
use (its CPU affinity), not the machine's count.  Each case runs in a child process pinned to one
core with ``os.sched_setaffinity``, so the test process keeps its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_PINNED = """
import os, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from engine.cores import usable_cores
from engine.jobs.chunk_workers import default_workers
from engine.jobs.config_workers import default_processes
print(usable_cores(), default_workers(), default_processes(5))
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_a_process_pinned_to_one_core_counts_one() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _PINNED], env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1", "1"]


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this system")
def test_an_unpinned_process_counts_the_cores_it_may_use() -> None:
    from engine.cores import usable_cores
    from engine.jobs.chunk_workers import default_workers

    cores = len(os.sched_getaffinity(0))
    assert usable_cores() == cores
    assert default_workers() == min(8, cores)

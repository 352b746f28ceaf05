"""What a sweep keeps in memory until it finishes, against what the machine has free: a note before a grid
that would not fit, so that it is not stopped for lack of memory after its chunks have run.

Each finished combination keeps, until the sweep is written: its row of the table (8 bytes a column), its
values in the grid (8 bytes a key, and its number), and its block sums for CSCV (two 8-byte sums for each of
:data:`engine.sweep.BLOCKS` blocks); CSCV then adds about :data:`CSCV_WORK` bytes a combination of work arrays
(docs/sweeps.md, "Big grids": 0.57 KB a combination measured from 200,000 to 2,000,000 combinations of 25
columns and four keys, where this counts 0.58 KB).

Free memory is Linux's ``MemAvailable`` (``/proc/meminfo``), or less when the process's control group allows
less (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``); elsewhere it is not known and nothing is said.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CSCV_WORK", "available_bytes", "kept_bytes", "memory_note"]

#: Bytes a combination of CSCV's work arrays (hashes, order, the columns' totals and weights), measured: the
#: process grew by 73 MB during CSCV on a million combinations.
CSCV_WORK = 80


def kept_bytes(combinations: int, columns: int, keys: int, blocks: int) -> int:
    """Bytes a sweep of ``combinations`` keeps until it is written: rows of ``columns`` 8-byte values, the
    grid's ``keys`` values and number, ``blocks`` pairs of block sums and :data:`CSCV_WORK`, each."""
    return combinations * (8 * columns + 8 * (keys + 1) + 16 * blocks + CSCV_WORK)


def available_bytes(proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Memory this process can still take: ``MemAvailable``, at most its control group's limit less its usage;
    None when the system does not say (not Linux, or unreadable)."""
    try:
        meminfo = (proc / "meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    free = next(
        (int(line.split()[1]) * 1024 for line in meminfo.splitlines() if line.startswith("MemAvailable:")), None
    )
    if free is None:
        return None
    for limit_file, usage_file in (
        ("memory.max", "memory.current"),  # cgroup v2, the process's group mounted at the root
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),  # cgroup v1
    ):
        try:
            limit_text = (cgroup / limit_file).read_text(encoding="ascii").strip()
            usage = int((cgroup / usage_file).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        if limit_text.isdigit():  # "max": no limit
            free = min(free, max(0, int(limit_text) - usage))
        break
    return free


def memory_note(needed: int, available: int | None) -> str | None:
    """The line to show before the chunks when ``needed`` bytes (:func:`kept_bytes`) exceed ``available``
    (:func:`available_bytes`), else None."""
    if available is None or needed <= available:
        return None
    return (
        f"this grid keeps about {_size(needed)} in memory until it is written (each combination's row and "
        f"block sums), and about {_size(available)} is free: the system may stop the sweep for lack of memory "
        "before it is written; a smaller grid, or more memory, avoids it"
    )


def _size(n: int) -> str:
    """``n`` bytes as ``1.2 GB`` or ``850 MB`` (decimal units, as memory is sold)."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"

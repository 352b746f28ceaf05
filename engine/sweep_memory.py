"""What a sweep keeps in memory until it finishes, against what the machine has free: a note before a grid
that would not fit, so that it is not stopped for lack of memory after its chunks have run.

Each finished combination's row of the table and block sums are kept on disk, in unnamed files in the sweep's
staging directory (engine/store/spill.py), not counted here.  In memory each keeps, until the sweep is written:
its values in the grid (8 bytes a key), its place in the chunks' order (8 bytes) and whether it is finished
(1 byte); CSCV then adds about :data:`CSCV_WORK` bytes a combination of work arrays.

Free memory is Linux's ``MemAvailable`` (``/proc/meminfo``), or less when the process's control group, or one
of its ancestors, allows less (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``, less the usage without
the page cache the kernel can drop); elsewhere it is not known and nothing is said.
"""

from __future__ import annotations

from pathlib import Path

from engine.plural import byte_size

__all__ = ["CSCV_WORK", "available_bytes", "kept_bytes", "memory_note"]

#: Bytes a combination of CSCV's work arrays (hashes, order, the columns' totals and weights), measured: Python's
#: ``tracemalloc`` peaked at 102 MB in CSCV of a million combinations' block sums.
CSCV_WORK = 100


def kept_bytes(combinations: int, keys: int) -> int:
    """Bytes a sweep of ``combinations`` keeps in memory until it is written: the grid's ``keys`` values, the
    chunks' order, whether it is finished and :data:`CSCV_WORK`, each (its row and block sums are on disk)."""
    return combinations * (8 * keys + 8 + 1 + CSCV_WORK)


def available_bytes(proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Memory this process can still take: ``MemAvailable``, at most what the limit of its control group (or of an
    ancestor's) leaves, its page cache that can be dropped not counted as used; None when the system does not say
    (not Linux, or unreadable)."""
    try:
        meminfo = (proc / "meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    free = next(
        (int(line.split()[1]) * 1024 for line in meminfo.splitlines() if line.startswith("MemAvailable:")), None
    )
    if free is None:
        return None
    for left in _group_room(proc, cgroup):
        free = min(free, left)
    return free


#: (the hierarchy's directory under the cgroup mount, its controller in /proc/self/cgroup, the limit's, the
#: usage's file, the reclaimable page cache's key in memory.stat): cgroup v2, then v1.
_HIERARCHIES = (
    ("", "", "memory.max", "memory.current", "inactive_file"),
    ("memory", "memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
)


def _group_room(proc: Path, cgroup: Path) -> list[int]:
    """What each control group this process is in, and each of their ancestors, leaves under its memory limit."""
    try:
        lines = (proc / "self" / "cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        return []
    out = []
    for sub, controller, limit_file, usage_file, cache_key in _HIERARCHIES:
        path = next(
            (ln.split(":", 2)[2] for ln in lines if ln.count(":") >= 2 and ln.split(":")[1] == controller), None
        )
        if path is None:
            continue
        root = cgroup / sub
        group = root / path.lstrip("/")
        if not group.is_dir():  # a namespaced mount shows the group as its root
            group = root
        for level in (group, *[p for p in group.parents if p.is_relative_to(root)]):
            left = _room(level, limit_file, usage_file, cache_key)
            if left is not None:
                out.append(left)
    return out


def _room(level: Path, limit_file: str, usage_file: str, cache_key: str) -> int | None:
    """The limit of the group at ``level`` less its usage without its reclaimable page cache; None without one."""
    try:
        limit_text = (level / limit_file).read_text(encoding="ascii").strip()
        usage = int((level / usage_file).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    if not limit_text.isdigit() or int(limit_text) >= 2**62:  # "max", or v1's page-rounded 2**63: no limit
        return None
    cache = 0
    try:
        for line in (level / "memory.stat").read_text(encoding="ascii").splitlines():
            key, _, value = line.partition(" ")
            if key == cache_key and value.strip().isdigit():
                cache = int(value)
    except OSError:
        pass
    return max(0, int(limit_text) - max(0, usage - cache))


def memory_note(needed: int, available: int | None) -> str | None:
    """The line to show before the chunks when ``needed`` bytes (:func:`kept_bytes`) exceed ``available``
    (:func:`available_bytes`), else None."""
    if available is None or needed <= available:
        return None
    return (
        f"this grid keeps about {byte_size(needed)} in memory until it is written (each combination's grid values "
        f"and CSCV's work), and about {byte_size(available)} is free: the system may stop the sweep for lack of memory "
        "before it is written; a smaller grid, or more memory, avoids it"
    )

"""The lock a command holds on a config's runs while it checks for a stored run and writes its own.

Two commands of one config, data and code started together both find nothing stored, both simulate,
and without this both store the same run.  Each holds ``results/.locks/<config>.lock`` (an ``fcntl``
lock, released when its process ends, so a killed command cannot leave it held) from the moment it
looks again for a stored run until its own has landed: the second then finds the first's and reuses it.
Simulating happens before, unlocked: only the check and the write, tens of milliseconds, wait, and only
for a command of the same config (a writer stopped halfway through one config's files holds up no other).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.errors import StoreError

__all__ = ["LOCKS", "writing"]

#: The directory of the locks, in the results directory next to the catalog.
LOCKS = ".locks"


@contextlib.contextmanager
def writing(results_dir: Path, config_names: Iterable[str]) -> Iterator[None]:
    """Each of ``config_names``' lock under ``results_dir``, taken in name order (two commands of the same
    configs never wait for each other's second lock while holding their first), held for the block."""
    with contextlib.ExitStack() as held:
        for name in sorted(set(config_names)):
            path = results_dir / LOCKS / f"{name}.lock"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                lock = held.enter_context(open(path, "a+"))  # held for the block
            except OSError as exc:
                raise StoreError(f"cannot lock {path}: {exc.strerror or exc}", file=str(path)) from None
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield

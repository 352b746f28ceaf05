"""The lock a command holds on a config's runs while it checks for a stored run and writes its own.

Two commands of one config, data and code started together both find nothing stored, both simulate,
and without this both store the same run.  Each holds ``results/.locks/<config>.lock`` (an ``fcntl``
lock, released when its process ends, so a killed command cannot leave it held) from the moment it
looks again for a stored run until its own has landed: the second then finds the first's and reuses it.
Simulating happens before, unlocked: only the check and the writes wait.  A command of several configs
takes their locks in name order and holds them all until every one of its runs has landed, so it holds
up a command of any of those configs meanwhile (a writer stopped halfway, by Ctrl-Z say, holds them up
until it goes on).  The guarantee is per results directory: two commands sharing a ``--store`` but
writing to different results directories can still store the same run twice.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from engine.errors import StoreError

__all__ = ["LOCKS", "writing"]

#: The directory of the locks, in the results directory next to the catalog.
LOCKS = ".locks"


@contextlib.contextmanager
def writing(
    results_dir: Path, config_names: Iterable[str], *, stop: Callable[[], None] = lambda: None
) -> Iterator[None]:
    """Each of ``config_names``' lock under ``results_dir``, taken in name order (two commands of the same
    configs never wait for each other's second lock while holding their first), held for the block.  When the
    block fails (Ctrl-C), ``stop`` is called before the locks go: workers still writing stop first.

    Names that differ only in case share a lock (on a filesystem that ignores case they would be one file,
    and a process locking one file twice waits for itself)."""
    with contextlib.ExitStack() as held:
        for name in sorted({n.casefold() for n in config_names}):
            path = results_dir / LOCKS / f"{name}.lock"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                lock = held.enter_context(open(path, "a+"))  # held for the block
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            except OSError as exc:
                raise StoreError(f"cannot lock {path}: {exc.strerror or exc}", file=str(path)) from None
        try:
            yield
        except BaseException:
            stop()
            raise

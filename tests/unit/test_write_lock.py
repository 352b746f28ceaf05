"""engine/store/write_lock.py: the per-config locks a command holds while it looks again and stores its runs."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

import pytest

from engine.store.write_lock import LOCKS, writing


def test_names_differing_only_in_case_share_one_lock(tmp_path: Path) -> None:
    """On a filesystem that ignores case ``Trend.lock`` and ``trend.lock`` are one file, and a process that
    locks one file twice waits for itself (a symlink stands in for such a filesystem here)."""
    (tmp_path / LOCKS).mkdir()
    (tmp_path / LOCKS / "trend.lock").touch()
    (tmp_path / LOCKS / "Trend.lock").symlink_to("trend.lock")
    done = threading.Event()

    def hold() -> None:
        with writing(tmp_path, ["Trend", "trend"]):
            done.set()

    threading.Thread(target=hold, daemon=True).start()
    assert done.wait(timeout=10), "the command waited for its own lock"


def test_a_failed_block_stops_the_writers_before_the_locks_go(tmp_path: Path) -> None:
    """Ctrl-C while workers write: they are stopped while the lock is still held, so no other command looks for
    a stored run while an interrupted worker's run may still land."""
    seen: list[bool] = []

    def stop() -> None:  # is the lock still held? another open of the file cannot take it
        with open(tmp_path / LOCKS / "cfg.lock", "a+") as other:
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen.append(False)
            except BlockingIOError:
                seen.append(True)

    with pytest.raises(KeyboardInterrupt), writing(tmp_path, ["cfg"], stop=stop):
        raise KeyboardInterrupt
    assert seen == [True]
    with open(tmp_path / LOCKS / "cfg.lock", "a+") as after:  # and released once the block is left
        fcntl.flock(after.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

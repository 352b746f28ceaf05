"""A sweep's finished chunks written on a thread of their own while the next chunks run.

Each chunk's two files are written whole (:func:`engine.store.rundir.write_atomic`: a hidden sibling,
synced to the disk, then renamed), and the syncs are the slow part: about 20 ms a chunk, 0.6-1.4 s of
a 5,061-combination sweep of 51 chunks when the main thread waited for them, handing no new chunk to
the computing threads meanwhile.  :class:`ChunkWriter` writes on one thread, in chunk order, so the
main thread only waits when ``ahead`` chunks are still being written (memory stays bounded).

A chunk counts as done (in the sweep's table, its progress and a resume) only once its files are
written: :meth:`ChunkWriter.put` and :meth:`ChunkWriter.drain` give back the chunks written so far, in
order, and raise a write's error (a full disk, say) when its chunk comes up.  Stopping (Ctrl-C) lets
the chunks already handed over finish writing, so a resumed sweep finds every chunk it was told of.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from engine.sweep import ChunkResult

__all__ = ["ChunkWriter", "Written"]


@dataclass(frozen=True)
class Written:
    """A chunk whose files are written: its number, its result, and the rows its table file holds."""

    number: int
    result: ChunkResult
    rows: pd.DataFrame


class ChunkWriter:
    """Write chunks with ``write(number, result) -> rows`` on one background thread, ``ahead`` at most waiting.

    Use it as a context manager: leaving it waits for every chunk handed over to be written.
    """

    def __init__(self, write: Callable[[int, ChunkResult], pd.DataFrame], ahead: int = 4) -> None:
        if ahead < 1:
            raise ValueError(f"ahead: expected at least 1, got {ahead}")
        self._write = write
        self._ahead = ahead
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seesaw-chunk-writer")
        self._pending: deque[tuple[int, ChunkResult, Future[pd.DataFrame]]] = deque()

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def put(self, number: int, result: ChunkResult) -> list[Written]:
        """Hand chunk ``number`` over; return the chunks written since the last call, in the order handed over
        (waiting for the oldest while more than ``ahead`` are unwritten)."""
        self._pending.append((number, result, self._pool.submit(self._write, number, result)))
        out = []
        while self._pending and (len(self._pending) > self._ahead or self._pending[0][2].done()):
            out.append(self._next())
        return out

    def drain(self) -> list[Written]:
        """Wait for every chunk handed over; return those not yet returned, in order."""
        out = []
        while self._pending:
            out.append(self._next())
        return out

    def _next(self) -> Written:
        number, result, future = self._pending[0]  # Ctrl-C while waiting leaves it pending, for drain()
        try:
            rows = future.result()
        except Exception:
            self._pending.popleft()  # its write failed: the error is raised once
            raise
        self._pending.popleft()
        return Written(number, result, rows)

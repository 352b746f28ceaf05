"""Where a sweep's chunks run: threads of this process, or a Dask cluster.

Every chunk is :func:`engine.sweep.evaluate_chunk` on the same shared context, so where it runs does not
change its bits (tested with a ``LocalCluster``); only the order in which chunks finish differs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.cores import usable_cores
from engine.errors import UserError
from engine.sweep import ChunkResult, SweepContext, evaluate_chunk

__all__ = ["check_cluster", "cluster_evaluator", "default_workers", "evaluate_chunks", "thread_evaluator"]

#: A Dask scheduler's address: an optional protocol, a host name, IPv4 or bracketed IPv6 address, and a port.
_ADDRESS = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})")


def check_cluster(cluster: object, name: str = "--cluster") -> str | None:
    """``cluster``, once known to be ``local``, a scheduler address or None: refused before anything runs
    otherwise (Dask's own parser raises a ValueError mid-sweep), the message naming ``name`` (the option, or the
    API's argument)."""
    if cluster is None or cluster == "local":
        return None if cluster is None else "local"
    match = _ADDRESS.fullmatch(cluster) if isinstance(cluster, str) else None
    if match is None or not 0 < int(match.group(1)) < 65536:
        raise UserError(f"{name}: expected 'local' or a Dask scheduler's address as tcp://HOST:PORT, got {cluster!r}")
    return str(cluster)


def default_workers() -> int:
    """Threads for in-process chunks, one per core this process may use, at most 8: vectorbt's Rust
    simulation, the numba planner and numpy's big operations release the GIL, so two threads ran a
    sweep 1.6x faster on two cores."""
    return min(8, usable_cores())


def cluster_evaluator(
    cluster: str,
) -> Callable[[SweepContext, pd.DataFrame, Sequence[np.ndarray]], Iterator[tuple[int, ChunkResult]]]:
    """A chunk evaluator that runs every chunk on the Dask cluster ``cluster`` (``local`` or an address)."""
    return lambda ctx, frame, parts: evaluate_chunks(ctx, frame, parts, list(range(len(parts))), cluster)


def thread_evaluator(
    workers: int,
) -> Callable[[SweepContext, pd.DataFrame, Sequence[np.ndarray]], Iterator[tuple[int, ChunkResult]]]:
    """A chunk evaluator that runs the chunks in ``workers`` threads of this process."""
    return lambda ctx, frame, parts: evaluate_chunks(ctx, frame, parts, list(range(len(parts))), None, workers)


def evaluate_chunks(
    ctx: SweepContext,
    frame: pd.DataFrame,
    parts: Sequence[np.ndarray],
    todo: list[int],
    cluster: str | None,
    workers: int = 1,
) -> Iterator[tuple[int, ChunkResult]]:
    """Finished chunks: in this process (``workers`` threads, in chunk order), or on a Dask cluster
    (as they come).  The same function on the same inputs either way, so the same bits."""
    if cluster is None:
        # On worker threads even for one: Ctrl-C then stops the main thread's wait, never a compiled call
        # (numba turns a KeyboardInterrupt raised inside its dispatcher into a SystemError).
        yield from _threaded(ctx, frame, parts, todo, max(1, min(workers, len(todo))))
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency
        raise UserError("--cluster needs dask distributed: pip install 'dask[distributed]'") from None
    local = None
    try:
        if cluster == "local":
            # the scheduler's HTTP server on a free port: with None it still takes 8787 and warns when
            # another local cluster (another sweep) holds it
            local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = Client(local)
            # the workers are this sweep's own: spared vectorbt's unused imports (engine/import_guard.py),
            # about 1 s and 75 MB each; a cluster at an address is the user's and left as it is
            client.register_plugin(_hiding_plugin())
        else:
            client = Client(cluster, timeout="10s")
    except OSError as exc:
        raise UserError(f"--cluster: cannot reach the Dask scheduler {cluster}: {exc}".splitlines()[0]) from None
    try:
        yield from _on_cluster(client, ctx, frame, parts, todo)
    finally:
        client.close()
        if local is not None:
            local.close()


#: Chunks submitted to a cluster ahead of those finished: per worker thread, and at least.
_AHEAD_PER_THREAD, _AHEAD_MIN = 2, 8
#: Finished chunks between two looks at the cluster's thread count (workers may join while it runs).
_RECOUNT = 100


def _on_cluster(
    client: Any, ctx: SweepContext, frame: pd.DataFrame, parts: Sequence[np.ndarray], todo: list[int]
) -> Iterator[tuple[int, ChunkResult]]:
    """The chunks ``todo`` on a Dask cluster, yielded as they finish.  Two chunks per worker thread (at
    least eight) are submitted ahead of those finished, and a chunk's future is let go once read, so
    this process, the scheduler and the workers hold a few chunks at a time whatever their number."""
    from distributed import as_completed

    shared = client.scatter(ctx, broadcast=True)
    queue = iter(todo)
    remote: dict[Any, int] = {}

    def submit(count: int) -> list[Any]:
        new: list[Any] = []
        for number in itertools.islice(queue, max(count, 0)):
            future = client.submit(evaluate_chunk, shared, frame.iloc[parts[number]], parts[number], pure=False)
            remote[future] = number
            new.append(future)
        return new

    def ahead() -> int:
        return max(_AHEAD_MIN, _AHEAD_PER_THREAD * sum(client.nthreads().values()))

    window = ahead()
    finished = as_completed(submit(window))
    for done, future in enumerate(finished, start=1):
        number = remote.pop(future)
        result = future.result()
        del future  # let go: the result leaves the worker's memory
        if done % _RECOUNT == 0:
            window = ahead()
        finished.update(submit(window - len(remote)))
        yield number, result


def _threaded(
    ctx: SweepContext, frame: pd.DataFrame, parts: Sequence[np.ndarray], todo: list[int], workers: int
) -> Iterator[tuple[int, ChunkResult]]:
    """The chunks ``todo`` on ``workers`` threads, yielded in order; at most two per thread are submitted
    ahead and a yielded chunk is let go, so memory stays bounded whatever the number of chunks."""
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[tuple[int, Future[ChunkResult]]] = deque()
    queue = iter(todo)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            while True:
                for number in itertools.islice(queue, 2 * workers - len(pending)):
                    pending.append((number, pool.submit(evaluate_chunk, ctx, frame.iloc[parts[number]], parts[number])))
                if not pending:
                    return
                number, future = pending.popleft()
                yield number, future.result()
        finally:  # stopped (Ctrl-C, an error): drop what has not started; running chunks finish
            for _, future in pending:
                future.cancel()


def _hiding_plugin() -> Any:
    """A Dask worker plugin that runs :func:`engine.import_guard.hide_from_vectorbt` in each worker (one that
    restarts included) before its first task."""
    from distributed.diagnostics.plugin import WorkerPlugin

    from engine.import_guard import hide_from_vectorbt

    class HideFromVectorbt(WorkerPlugin):
        name = "seesaw-hide-from-vectorbt"
        idempotent = True

        def setup(self, worker: Any) -> None:
            hide_from_vectorbt()

    return HideFromVectorbt()

"""Where a sweep chunk's time goes: each stage of ``engine.sweep.evaluate_chunk`` timed, on one thread.

The grid of ``benchmarks/sweep.py`` (``benchmarks/grid_5061.yaml``, 5,061 combinations) on the real
history in ``SEESAW_DATA_DIR`` (or ../shared/data).  ``--chunks`` of the grid's chunks, spread over it
(every k-th), are evaluated once as a warm-up and then ``--rounds`` times; the round with the least
total time counts.  A stage is a function ``evaluate_chunk`` calls, wrapped in a timer for the run
(:data:`STAGES`; a wrapper costs about 0.3 µs a call, six calls a chunk):

* settings: ``engine.sweep._knobs``, each combination's settings, grouped;
* signals and rules: ``engine.sweep._targets``, the signals once per distinct set, the deciding rules;
* scheduler: ``engine.evaluate._plan``, the plan and its fills (``engine.execution.plan_batch``, with
  vectorbt's order primitives);
* values and weights: ``engine.evaluate.curves_from_fills``, the walk over the fills;
* order totals: ``engine.evaluate._curves``, what each combination traded (a pass over the records);
* metrics: ``engine.sweep._metrics``, the two passes over the values and the table;
* the rest: what ``evaluate_chunk`` does outside them (the chunk's frame of settings, the costs per
  slot, the first decisions, window metrics, the result) and the wrappers' own cost.

It prints each stage's milliseconds a chunk, nanoseconds a bar-combination (a combination on a date)
and share of the chunk's whole time, measured in the same rounds.

    python benchmarks/chunk_stages.py [--chunks 12] [--rounds 3] [--chunk-size 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONFIG = (Path(__file__).resolve().parent / "grid_5061.yaml").read_text(encoding="utf-8")
sys.path.insert(0, str(REPO))

import engine.evaluate  # noqa: E402
import engine.sweep  # noqa: E402
from engine.config import load_config  # noqa: E402
from engine.config.params import grid  # noqa: E402
from engine.data.csv import CsvProvider  # noqa: E402
from engine.data.panel import load_for_config  # noqa: E402
from engine.sweep import DEFAULT_CHUNK, SweepContext, chunks, evaluate_chunk, grid_frame, prepare, sweep_warmup  # noqa: E402

#: (module, function, label): the stages, in the order evaluate_chunk reaches them.
STAGES: tuple[tuple[Any, str, str], ...] = (
    (engine.sweep, "_knobs", "settings"),
    (engine.sweep, "_targets", "signals and rules"),
    (engine.evaluate, "_plan", "scheduler"),
    (engine.evaluate, "curves_from_fills", "values and weights"),
    (engine.evaluate, "_curves", "order totals"),
    (engine.sweep, "_metrics", "metrics"),
)


@contextmanager
def timed_stages(totals: dict[str, float]) -> Iterator[None]:
    """Each of :data:`STAGES` wrapped so that its seconds add up in ``totals[label]``; restored after."""
    originals = [(module, name, getattr(module, name)) for module, name, _ in STAGES]

    def wrap(f: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                totals[label] = totals.get(label, 0.0) + time.perf_counter() - start

        return timed

    try:
        for (module, name, label), (_, _, f) in zip(STAGES, originals, strict=True):
            setattr(module, name, wrap(f, label))
        yield
    finally:
        for module, name, f in originals:
            setattr(module, name, f)


def stage_times(ctx: SweepContext, parts: Sequence[Any], frame: Any, rounds: int) -> tuple[float, dict[str, float]]:
    """(seconds of the round with the least total, its seconds per stage and ``"the rest"``) evaluating
    the chunks ``parts`` (row positions in ``frame``), after one warm-up pass."""
    combos = [(frame.iloc[part], part) for part in parts]  # sliced before the timing, as the sweep hands them
    for rows, part in combos:
        evaluate_chunk(ctx, rows, part)
    best: tuple[float, dict[str, float]] | None = None
    for _ in range(rounds):
        totals: dict[str, float] = {}
        with timed_stages(totals):
            start = time.perf_counter()
            for rows, part in combos:
                evaluate_chunk(ctx, rows, part)
            whole = time.perf_counter() - start
        if best is None or whole < best[0]:
            best = (whole, totals)
    assert best is not None
    whole, totals = best
    return whole, {**totals, "the rest": whole - sum(totals.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    args = parser.parse_args()

    data_dir = Path(os.environ.get("SEESAW_DATA_DIR") or REPO.parent / "shared" / "data")
    path = Path("/tmp") / f"seesaw-bench-stages-{os.getpid()}.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    try:
        cfg = load_config(path)
    finally:
        path.unlink(missing_ok=True)
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"data_dir": str(data_dir)})})
    g = grid(cfg)
    loaded = load_for_config(CsvProvider(data_dir), cfg, warmup_rows=sweep_warmup(cfg, g))
    ctx = prepare(cfg, loaded, engine="rust")
    every = chunks(cfg, g, args.chunk_size)
    parts = every[:: max(1, len(every) // args.chunks)][: args.chunks]
    combos = sum(len(p) for p in parts)
    n = len(ctx.dates)
    print(
        f"data: {data_dir} {ctx.dates[0].date()}..{ctx.dates[-1].date()} ({n:,} dates); {len(parts)} of the grid's "
        f"{len(every)} chunks of {args.chunk_size} ({combos:,} combinations); one thread; best of {args.rounds} rounds"
    )
    whole, stages = stage_times(ctx, parts, grid_frame(g), args.rounds)
    bar_combos = combos * n
    print(f"{'stage':24s} {'ms a chunk':>10s} {'ns a bar-combo':>15s} {'share':>6s}")
    for label, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        line = f"{label:24s} {seconds / len(parts) * 1e3:10.2f} {seconds / bar_combos * 1e9:15.1f}"
        print(f"{line} {seconds / whole:6.0%}")
    print(f"{'whole chunk':24s} {whole / len(parts) * 1e3:10.2f} {whole / bar_combos * 1e9:15.1f} {1:6.0%}")
    print(f"{bar_combos / whole / 1e6:.1f} million bar-combinations a second on one thread")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

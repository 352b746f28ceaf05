"""Sweep throughput by the shape of a rule's targets: half each, full switches, full switches monthly.

The grid of ``benchmarks/grid_5061.yaml`` (5,061 combinations of a relative-momentum rotation on the real
S&P 500 / Hang Seng history in ``SEESAW_DATA_DIR``, or ../shared/data), run three ways:

* grid: as written, US / Hong Kong / half each, rebalanced on every change of target;
* switches: the third rule holds the US instead of half each, so every target is a full switch;
* monthly: full switches, rebalanced on the month's last trading date only.

For each: the sweep as ``seesaw sweep`` runs it (``--workers`` threads), its trades per combination,
and the minimal compiled rotation loop of ``benchmarks/sweep.py`` (variant (f)) for the same rule shape
on the same threads (the targets from the momentum's sign against the threshold, changed every date or
only after a month's last date, a cost per switch, the final value and the Sharpe ratio in one pass over
the dates: no calendars, cash, order sizing or vectorbt arithmetic), the ceiling a loop that only
rotates sets for that shape on this machine.  Rules whose targets are full switches and change less
often leave the scheduler fewer events and fills per date, which is what the sweep's time follows
(``docs/performance.md``).

    python benchmarks/sweep_switches.py [--rounds 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sweep import CONFIG, ceiling, ceiling_inputs  # noqa: E402
from engine.config import load_config  # noqa: E402
from engine.config.params import grid  # noqa: E402
from engine.data.csv import CsvProvider  # noqa: E402
from engine.data.panel import load_for_config  # noqa: E402
from engine.jobs.chunk_workers import default_workers, evaluate_chunks  # noqa: E402
from engine.sweep import DEFAULT_CHUNK, chunks, evaluate_chunk, grid_frame, prepare, sweep_warmup  # noqa: E402

HALF = "  - otherwise: {us: 0.5, hk: 0.5}"


def shapes(text: str) -> dict[str, tuple[str, bool, bool]]:
    """label -> (config text, whether the third rule is half each, whether targets change monthly only)."""
    if HALF not in text or "rebalance: on_change" not in text:
        raise SystemExit("benchmarks/grid_5061.yaml no longer has the rule and rebalancing this benchmark varies")
    switch = text.replace(HALF, "  - otherwise: {us: 1.0}")
    return {
        "grid: US / HK / half each, on change": (text, True, False),
        "full switches, on change": (switch, False, False),
        "full switches, monthly": (switch.replace("rebalance: on_change", "rebalance: monthly"), False, True),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    data_dir = Path(os.environ.get("SEESAW_DATA_DIR") or REPO.parent / "shared" / "data")
    print(f"data: {data_dir}; {args.workers} threads; best of {args.rounds}")
    head = ("rule shape", "sweep s", "bar-combos/s", "trades", "kernel s", "kernel/s", "gap")
    print(f"{head[0]:38s} {head[1]:>8s} {head[2]:>14s} {head[3]:>7s} {head[4]:>9s} {head[5]:>14s} {head[6]:>5s}")
    path = Path("/tmp") / f"seesaw-bench-switches-{os.getpid()}.yaml"
    try:
        for label, (text, half, monthly) in shapes(CONFIG).items():
            path.write_text(text, encoding="utf-8")
            bars, sweep, trades, kernel = _measure(path, data_dir, half, monthly, args.rounds, args.workers)
            print(
                f"{label:38s} {sweep:8.2f} {bars / sweep:14,.0f} {trades:7.0f} {kernel:9.3f} {bars / kernel:14,.0f} "
                f"{sweep / kernel:4.0f}x"
            )
    finally:
        path.unlink(missing_ok=True)
    print("trades: fills per combination (a sample of the chunks); gap: sweep seconds / kernel seconds")
    return 0


def _measure(path: Path, data_dir: Path, half: bool, monthly: bool, rounds: int, workers: int) -> tuple:
    """(bar-combinations, the sweep's best seconds, its mean trades per combination, the kernel's best seconds)."""
    cfg = load_config(path)
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"data_dir": str(data_dir)})})
    g = grid(cfg)
    loaded = load_for_config(CsvProvider(data_dir), cfg, warmup_rows=sweep_warmup(cfg, g))
    ctx = prepare(cfg, loaded, engine="rust")
    parts, frame = chunks(cfg, g, DEFAULT_CHUNK), grid_frame(g)
    trades = float(np.mean([evaluate_chunk(ctx, frame.iloc[p], p).table["trades"].mean() for p in parts[::10]]))
    todo = list(range(len(parts)))
    sweep = _best(rounds, lambda: list(evaluate_chunks(ctx, frame, parts, todo, None, workers)))
    inputs = ceiling_inputs(ctx, g, monthly=monthly)
    ceiling(*inputs, half=half, workers=1)  # compiled outside the timing
    kernel = _best(rounds, lambda: ceiling(*inputs, half=half, workers=workers))
    return len(ctx.dates) * g.size, sweep, trades, kernel


def _best(rounds: int, run) -> float:
    out = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        out = min(out, time.perf_counter() - t0)
    return out


if __name__ == "__main__":
    raise SystemExit(main())

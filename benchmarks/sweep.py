"""Speed of a parameter sweep: the vectorised engine against a loop of single runs and one naive call.

Grid (``benchmarks/grid_5061.yaml``): a relative-momentum rotation, 241 momentum windows (20..260)
x 21 thresholds (0..0.10): 5,061 combinations, on the real daily S&P 500 / Hang Seng history in ``SEESAW_DATA_DIR`` (or
../shared/data), 2002-01-02 .. 2026-08-26 (the USD/HKD series that converts the Hang Seng starts
in July 2001).  Variants, interleaved in this one process (``--rounds`` times):

* sweep: :mod:`engine.sweep` in process, Rust engine, chunks of ``--chunk-size`` combinations,
  on one thread, and on ``--workers`` threads as ``seesaw sweep`` runs it (default: the cores);
* (a) loop: a Python loop of single runs (``engine.pipeline.run_strategy``, one vectorbt call
  each) over a sample of 50 combinations, extrapolated to the grid;
* (b) naive: one ``Portfolio.from_orders(..., engine='numba')`` call over every combination, on
  pandas frames of the same orders and prices (the order plans are given to it for free), plus
  ``final_value()``; numba is compiled before timing.
* (c) simulator alone: only a vectorbt simulation of the legs the sweep's chunks schedule (Rust engine, the
  same chunks, on ``--workers`` threads), with their inputs recorded beforehand: the ceiling that
  vectorbt's simulator sets on this machine at that moment.  The sweep's share of it is printed.
* (d) fused kernel alone: only the chunks' order planner and scheduler (``engine.execution.plan_batch``,
  which decides and fills every leg with vectorbt's order primitives), inputs recorded beforehand, on
  ``--workers`` threads: what the sweep spends outside signals, rules and metrics.
* (e) the sweep with ``--engine rust``: every chunk's planned orders re-simulated by vectorbt's ``from_orders`` (the
  reference the fused fills are checked against), on ``--workers`` threads, in chunks of ``SIMULATED_CHUNK``.
* (f) ceiling: a minimal compiled rotation kernel on the same grid and dates (US / Hong Kong / half
  each from the sign of the momentum against the threshold, lag 1, a cost per switch, the final value
  and the Sharpe ratio in the same pass), on ``--workers`` threads: how fast a loop that does nothing
  but rotate can go on this machine.  Not Seesaw's arithmetic (no calendars, no cash, no order sizing).
* (g) the sweep's chunks on ``--workers`` forked processes instead of threads (chunk i on process
  i mod workers, results discarded): the same work without sharing one interpreter's GIL (but
  faulting in the pages the fork shares): when it is no faster than the threads, the GIL is not what
  keeps two threads from twice one thread's speed.  Its peak memory is not counted (the children's).
* (h) vectorbt's order primitives alone: ``order_nb``, ``execute_order_nb`` and ``fill_order_record_nb``
  called once for each fill the sweep's chunks make (the fills of (d), replayed as target-percent orders
  at their prices, as the scheduler places them) in a compiled loop, on ``--workers`` threads: what
  filling through vectorbt's own arithmetic costs at the least, whatever decides the orders.

First it checks that sweep rows equal single runs (rel 1e-12).  Peak memory is the highest
resident set size sampled every 5 ms while a variant runs, minus the size before it.

    python benchmarks/sweep.py [--rounds 2] [--chunk-size 100] [--skip-naive]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from pathlib import Path

import numba
import numpy as np
from vectorbt.portfolio.enums import Direction, OrderStatus, ProcessOrderState, SizeType
from vectorbt.portfolio.nb import execute_order_nb, fill_order_record_nb, order_nb

REPO = Path(__file__).resolve().parents[1]
CONFIG = (Path(__file__).resolve().parent / "grid_5061.yaml").read_text(encoding="utf-8")
sys.path.insert(0, str(REPO))


from engine.config import load_config  # noqa: E402
from engine.config.params import apply_combination, grid  # noqa: E402
from engine.data.csv import CsvProvider  # noqa: E402
from engine.data.panel import load_for_config  # noqa: E402
from engine.jobs.chunk_workers import default_workers, evaluate_chunks  # noqa: E402
from engine.pipeline import required_warmup, run_strategy  # noqa: E402
from engine.sweep import (  # noqa: E402
    DEFAULT_CHUNK,
    SIMULATED_CHUNK,
    _knobs,
    _targets,
    chunks,
    evaluate_chunk,
    grid_frame,
    prepare,
    sweep_warmup,
)


def _peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """The highest resident set size above the starting one, sampled every 5 ms in a thread."""

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self.base = _rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def used(self) -> int:
        return self.peak - self.base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, help="every variant's (default: as seesaw sweep's)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--skip-naive", action="store_true", help="leave out (b), which needs several GB")
    args = parser.parse_args()

    data_dir = Path(os.environ.get("SEESAW_DATA_DIR") or REPO.parent / "shared" / "data")
    path = Path("/tmp") / f"seesaw-bench-sweep-{os.getpid()}.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(path)
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"data_dir": str(data_dir)})})
    g = grid(cfg)
    combos = list(g)
    provider = CsvProvider(data_dir)
    loaded = load_for_config(provider, cfg, warmup_rows=sweep_warmup(cfg, g))
    ctx = prepare(cfg, loaded, engine="rust")
    n_dates = len(ctx.dates)
    parts = chunks(cfg, g, args.chunk_size or DEFAULT_CHUNK)
    print(
        f"data: {data_dir} {ctx.dates[0].date()}..{ctx.dates[-1].date()} ({n_dates} dates, "
        f"{n_dates * len(set(loaded.panel.markets))} slots); grid {g.size:,} combinations "
        f"({len(g.values[0])} windows x {len(g.values[1])} thresholds); chunks of {len(parts[0])}; "
        f"{os.cpu_count()} cores"
    )

    # 0. correctness first: sweep rows equal single runs
    rng = np.random.default_rng(20250120)
    sample = sorted(rng.choice(g.size, size=5, replace=False).tolist())
    frame = grid_frame(g)
    check = evaluate_chunk(ctx, frame.iloc[sample], sample)
    for j, i in enumerate(sample):
        single = apply_combination(cfg, combos[i])
        res = run_strategy(single, load_for_config(provider, single, warmup_rows=required_warmup(single)))
        for key in ("total_return", "sharpe", "max_drawdown", "turnover"):
            if not np.isclose(check.table.loc[j, key], res.metrics[key], rtol=1e-12, atol=1e-12):
                print(f"MISMATCH {combos[i]} {key}: sweep {check.table.loc[j, key]} single {res.metrics[key]}")
                return 1
    print(f"check: 5 sweep rows equal single runs (rel 1e-12): {[combos[i] for i in sample]}")

    loop_sample = rng.choice(g.size, size=50, replace=False).tolist()
    results: dict[str, list[tuple[float, int]]] = {
        key: [] for key in ("threads", "sweep", "loop", "naive", "sim", "fused", "rust", "ceiling", "procs", "orders")
    }
    plans, calls, fills = _simulator_calls(ctx, frame, parts)
    _replay(fills[:1], workers=1)  # compile outside the timing
    ctx_rust = prepare(cfg, loaded, engine="rust", simulator="rust")
    rotation = ceiling_inputs(ctx, g)
    ceiling(*rotation, workers=1)  # compile outside the timing

    def run_all(context, own: list = parts) -> None:
        for _number, _result in evaluate_chunks(context, frame, own, list(range(len(own))), None, args.workers):
            pass

    def loop() -> None:
        for i in loop_sample:
            run_strategy(apply_combination(cfg, combos[i]), loaded)

    variants = {
        "threads": lambda: run_all(ctx),
        "sweep": lambda: [evaluate_chunk(ctx, frame.iloc[part], part) for part in parts],
        "loop": loop,
        "sim": lambda: _simulate_only(calls, args.workers),
        "fused": lambda: _plan_only(plans, args.workers),
        "rust": lambda: run_all(ctx_rust, chunks(cfg, g, args.chunk_size or SIMULATED_CHUNK)),
        "ceiling": lambda: ceiling(*rotation, workers=args.workers),
        "procs": lambda: _processes(ctx, frame, parts, args.workers),
        "orders": lambda: _replay(fills, workers=args.workers),
    }
    for _ in range(args.rounds):
        for key, variant in variants.items():
            with PeakMemory() as mem:
                t0 = time.perf_counter()
                variant()
                took = time.perf_counter() - t0
            scale = g.size / len(loop_sample) if key == "loop" else 1.0  # the loop's sample, extrapolated
            results[key].append((took * scale, mem.used))
        if not args.skip_naive:
            # Built anew each round and freed after it: its 4 GB of frames must not sit in memory
            # while the other variants run (with them resident, two threads scaled worse).
            naive_inputs = _naive_inputs(cfg, ctx, combos)
            if not results["naive"]:
                _naive(*naive_inputs, compile_only=True)
            with PeakMemory() as mem:
                t0 = time.perf_counter()
                _naive(*naive_inputs)
                results["naive"].append((time.perf_counter() - t0, mem.used))
            del naive_inputs
            gc.collect()

    bars = n_dates * g.size
    best = {k: min(v) for k, v in results.items() if v}
    print(f"{'variant':38s} {'seconds':>9s} {'combos/s':>10s} {'bar-combos/s':>14s} {'peak MB':>8s} {'ratio':>7s}")
    sweep_s = best["threads"][0]
    labels = {
        "threads": f"sweep, {args.workers} threads (seesaw sweep)",
        "sweep": "sweep, 1 thread",
        "loop": "(a) loop of single runs, extrap.",
        "naive": "(b) one naive numba call, pandas",
        "sim": f"(c) simulator alone, {args.workers} threads",
        "fused": f"(d) fused kernel alone, {args.workers} threads",
        "rust": f"(e) sweep --engine rust, {args.workers} thr.",
        "ceiling": f"(f) minimal rotation kernel, {args.workers} thr.",
        "procs": f"(g) sweep, {args.workers} processes",
        "orders": f"(h) order primitives alone, {args.workers} thr.",
    }
    for key, (seconds, used) in best.items():
        ratio = seconds / sweep_s
        memory = "-" if key == "procs" else f"{used / 2**20:.0f}"  # (g): the children's, not measured
        print(
            f"{labels[key]:38s} {seconds:9.2f} {g.size / seconds:10,.0f} {bars / seconds:14,.0f} "
            f"{memory:>8s} {ratio:6.2f}x"
        )
    print(f"best of {args.rounds} rounds each; ratio = variant seconds / seconds of the sweep as seesaw sweep runs it")
    print(f"the sweep reaches {best['sim'][0] / sweep_s:.0%} of the simulator's own throughput (c)")
    print(
        f"the fused kernel (d) is {best['fused'][0] / sweep_s:.0%} of the sweep's time; ceiling (f) / sweep: "
        f"{sweep_s / best['ceiling'][0]:,.0f}x faster"
    )
    print(f"{args.workers} processes (g) take {best['procs'][0] / sweep_s:.0%} of the threads' time")
    n_fills = sum(len(f) for f in fills)
    per_fill = best["orders"][0] / n_fills * args.workers * 1e9  # ns a fill on one thread
    print(
        f"vectorbt's order primitives (h): {n_fills:,} fills, {per_fill:.0f} ns a fill and thread, "
        f"{best['orders'][0] / sweep_s:.0%} of the sweep's time"
    )
    naive = "; the naive call's frames dominate it" if results["naive"] else ""
    print(f"peak resident memory of this process, every variant included: {_peak_rss() / 2**20:.0f} MB{naive}")
    path.unlink()
    return 0


def _simulator_calls(ctx, frame, parts) -> tuple[list[dict], list[dict]]:
    """The arguments of a Rust ``from_orders`` simulation of every chunk's scheduled legs.

    Sweep chunks take their fills from the order scheduler, so the chunks' plans are captured during
    one pass of the sweep and each is given to :func:`engine.simulate.simulate_batch` (on the sweep's
    engine), whose vectorbt call is recorded: what vectorbt's simulator alone needs for the same legs.
    """
    from engine import evaluate, simulate

    plans: list[tuple[object, dict]] = []
    real_plan = evaluate.plan_batch

    def capture(**kwargs):
        batch = real_plan(**kwargs)
        plans.append((batch, kwargs))
        return batch

    evaluate.plan_batch = capture
    try:
        for part in parts:
            evaluate_chunk(ctx, frame.iloc[part], part)
    finally:
        evaluate.plan_batch = real_plan
    calls: list[dict] = []
    real = simulate._order_records

    def record(engine, **kwargs):
        calls.append({"engine": engine, **kwargs})
        return real(engine, **kwargs)

    simulate._order_records = record
    try:
        for batch, kw in plans:
            rows, sizes = batch.orders_from(kw["first_slot"])
            simulate.simulate_batch(
                size=sizes,
                rows=rows,
                n_slots=len(ctx.close),
                price=ctx.close,
                order_price=ctx.order,
                fees=kw["fees"],
                slippage=kw["slippage"],
                init_cash=kw["init_cash"],
                engine=ctx.engine,
                n_assets=len(ctx.loaded.panel.assets),
            )
    finally:
        simulate._order_records = real
    return [kw for _, kw in plans], calls, [batch.fills for batch, _ in plans]


def _replay(fills: list[np.ndarray], workers: int) -> None:
    """(h): each chunk's fills replayed through vectorbt's order primitives, on ``workers`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    def one(records: np.ndarray) -> int:
        out = np.empty_like(records)
        col = np.ascontiguousarray(records["col"])
        return _replay_nb(col, *(np.ascontiguousarray(records[f]) for f in ("size", "price", "fees", "side")), out)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, fills))


@numba.njit(nogil=True)
def _replay_nb(col, size, price, fees, side, out):  # pragma: no cover - compiled
    """Fill r again as vectorbt's primitives fill a target-percent order: the target is the units held after
    it at its price over the column's value then; its fees as a fraction of what it trades."""
    n_cols = int(col.max()) + 1 if len(col) else 0
    units, cash = np.zeros(n_cols), np.full(n_cols, 1e9)
    filled = 0
    for r in range(len(col)):
        c, p = col[r], price[r]
        value = cash[c] + units[c] * p
        held = units[c] + size[r] if side[r] == 0 else units[c] - size[r]
        order = order_nb(
            held * p / value, p, SizeType.TargetPercent, Direction.LongOnly, fees[r] / (size[r] * p),
            0.0, 0.0, 0.0, np.inf, np.nan, 0.0, False, True, False, False,
        )  # fmt: skip
        state = ProcessOrderState(cash[c], units[c], 0.0, cash[c], p, value, filled, 0)
        after, result = execute_order_nb(state, order)
        if result.status == OrderStatus.Filled:
            fill_order_record_nb(out[filled], filled, r, c, result)
            filled += 1
        cash[c], units[c] = after.cash, after.position
    return filled


def _plan_only(plans: list[dict], workers: int) -> None:
    """The recorded ``plan_batch`` calls again (each fills its own fresh outputs), on ``workers`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.execution import plan_batch

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda kw: plan_batch(**kw), plans))


def _processes(ctx, frame, parts, workers: int) -> None:
    """(g): the chunks on ``workers`` forked processes, chunk i on process i mod workers."""
    import multiprocessing

    def share(w: int) -> None:
        for part in parts[w::workers]:
            evaluate_chunk(ctx, frame.iloc[part], part)

    procs = [multiprocessing.get_context("fork").Process(target=share, args=(w,)) for w in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    if any(proc.exitcode for proc in procs):
        raise SystemExit(f"(g): a process failed (exit codes {[proc.exitcode for proc in procs]})")


def ceiling_inputs(ctx, g, *, monthly: bool = False):
    """Daily returns of the two assets in the base currency (their unit values), each window's relative
    momentum known at the previous close (lag 1), the thresholds, the grid config's cost per switch, and the
    dates on which a target may change: every date, or with ``monthly`` the first of each month (the
    decision at the month's last close, executed the next date)."""
    unit = ctx.val.known[ctx.start - 1 :]
    returns = np.ascontiguousarray(unit[1:] / unit[:-1] - 1.0)  # (n, 2): the run's dates
    windows, cuts = (np.asarray(v, dtype=np.float64) for v in g.values)
    level = ctx.val.known
    momentum = np.empty((len(returns), len(windows)))
    for j, w in enumerate(windows.astype(int)):
        past = np.roll(level, w, axis=0)
        rel = np.log(level[:, 0] / past[:, 0]) - np.log(level[:, 1] / past[:, 1])
        momentum[:, j] = rel[ctx.start - 1 : -1]  # known at the previous close: lag 1
    change = np.ones(len(returns), dtype=np.bool_)
    if monthly:
        months = ctx.dates.to_period("M").to_numpy()
        change[1:] = months[1:] != months[:-1]
    return returns, np.ascontiguousarray(momentum), cuts, 0.001, change


def ceiling(returns, momentum, cuts, cost, change, *, half: bool = True, workers: int) -> np.ndarray:
    """The minimal rotation loop (:func:`_rotate_nb`) over every combination, on ``workers`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    out = np.empty((momentum.shape[1] * len(cuts), 2))
    edges = np.linspace(0, len(out), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: _rotate_nb(returns, momentum, cuts, cost, change, half, *edges[i : i + 2], out),
                      range(workers)))  # fmt: skip
    return out


@numba.njit(nogil=True, cache=True)
def _rotate_nb(returns, momentum, cuts, cost, change, half, lo, hi, out):  # pragma: no cover - compiled
    """Combinations lo..hi-1 (window-major): hold US when momentum > cut, Hong Kong when < -cut, else half
    each (``half``) or the US; the target changes only on dates ``change``; a switch costs ``cost``; writes
    the final value and the daily Sharpe ratio."""
    n = returns.shape[0]
    n_cuts = len(cuts)
    for c in range(lo, hi):
        w, cut = c // n_cuts, cuts[c % n_cuts]
        value, held, total, squares = 1.0, -1, 0.0, 0.0
        for t in range(n):
            want = held
            if change[t] or held < 0:
                s = momentum[t, w]
                want = 0 if s > cut else (1 if s < -cut else (2 if half else 0))
            r = returns[t, 0] if want == 0 else (returns[t, 1] if want == 1 else 0.5 * (returns[t, 0] + returns[t, 1]))
            if want != held:
                r = (1.0 + r) * (1.0 - cost) - 1.0
                held = want
            value *= 1.0 + r
            total += r
            squares += r * r
        mean = total / n
        out[c, 0] = value
        out[c, 1] = mean / np.sqrt((squares - n * mean * mean) / (n - 1))


def _simulate_only(calls: list[dict], workers: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from engine import simulate

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda kw: simulate._order_records(**kw), calls))


def _naive_inputs(cfg, ctx, combos):
    """Pandas frames of every combination's orders and prices, as a plain vectorbt user would pass them."""
    import pandas as pd

    from engine.costs import cost_rates
    from engine.execution import plan_batch

    panel, start = ctx.loaded.panel, ctx.start
    targets = _targets(cfg, ctx, _knobs(cfg, grid_frame(grid(cfg))))
    ms = len(ctx.close) // (len(panel.dates) - start)
    rates = cost_rates(cfg.costs, cfg.assets, panel.assets, panel.dates)
    fees_slots = np.repeat(rates.fees, ms, axis=0)[start * ms :]
    batch = plan_batch(
        targets=targets,
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=np.full(len(combos), start - 1),
        lag=np.ones(len(combos), dtype=np.int64),
        rebalance=["on_change"] * len(combos),
        close=ctx.close,
        order_price=ctx.order,
        fees=fees_slots,
        slippage=rates.slippage,
        init_cash=cfg.initial_cash,
        first_slot=start * ms,
    )
    k, n_assets = len(combos), len(panel.assets)
    size = pd.DataFrame(batch.size[start * ms :])
    close = pd.DataFrame(np.tile(ctx.close, (1, k)))
    order = pd.DataFrame(np.tile(ctx.order, (1, k)))
    fees = pd.DataFrame(np.tile(fees_slots, (1, k)))
    return size, close, order, fees, np.tile(rates.slippage, k), np.repeat(np.arange(k), n_assets), cfg.initial_cash


def _naive(size, close, order, fees, slippage, groups, cash, *, compile_only: bool = False) -> None:
    import vectorbt as vbt

    if compile_only:  # numba compiles on first use: do it on two rows, outside the timing
        size, close, order, fees = (x.iloc[:2, :2] for x in (size, close, order, fees))
        slippage, groups = slippage[:2], groups[:2]
    pf = vbt.Portfolio.from_orders(
        close=close,
        size=size,
        size_type="targetpercent",
        direction="longonly",
        price=order,
        val_price=order,
        fees=fees,
        slippage=slippage,
        init_cash=cash,
        cash_sharing=True,
        group_by=groups,
        call_seq="auto",
        engine="numba",
    )
    pf.final_value()


if __name__ == "__main__":
    raise SystemExit(main())

"""Time the engine against a bare vectorbt call on the same orders, per shipped config.

For each config in configs/ on 25 years of real data (2000-01-01 .. 2024-12-31,
CSV provider, ``SEESAW_DATA_DIR`` or ../shared/data):

* engine: ``run_strategy`` = signals + rules + order plan + simulation + metrics;
* bare:   ``Portfolio.from_orders(...)`` on the engine's own order plan and prices,
  plus ``final_value()``: the least a vectorbt user would run;
* sim-only: the same ``from_orders`` call without ``final_value()`` (a stricter baseline).

It first checks that the bare call's final value equals the engine's, then
prints the median of ``--repeat`` timings of each, and their ratio.

    python benchmarks/single_run.py [--repeat 15] [--engine rust]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.config import load_config  # noqa: E402
from engine.costs import cost_rates  # noqa: E402
from engine.data.csv import CsvProvider  # noqa: E402
from engine.data.panel import load_panel  # noqa: E402
from engine.execution import plan_orders  # noqa: E402
from engine.pipeline import required_warmup, run_strategy, slot_prices, strategy_allocation  # noqa: E402


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--engine", choices=["rust", "numba"], default="rust")
    args = parser.parse_args()

    import vectorbt as vbt

    data_dir = Path(os.environ.get("SEESAW_DATA_DIR") or REPO.parent / "shared" / "data")
    provider = CsvProvider(data_dir)
    print(f"data: {data_dir} 2000-01-01..2024-12-31, engine={args.engine}, median of {args.repeat} runs")
    print(
        f"{'config':20s} {'dates':>6s} {'trades':>6s} {'engine ms':>10s} {'bare ms':>8s} {'ratio':>6s}"
        f" {'sim-only':>9s} {'ratio':>6s}"
    )
    ratios: list[float] = []
    sim_ratios: list[float] = []
    for path in sorted((REPO / "configs").glob("*.yaml")):
        cfg = load_config(path)
        loaded = load_panel(
            provider,
            cfg.assets,
            price_field=cfg.data.price,
            start=dt.date(2000, 1, 1),
            end=dt.date(2024, 12, 31),
            warmup_rows=required_warmup(cfg),
        )
        panel, start = loaded.panel, loaded.start
        alloc = strategy_allocation(cfg, panel)
        plan = plan_orders(
            targets=alloc.targets,
            traded=panel.traded,
            known=panel.known,
            markets=panel.markets,
            dates=panel.dates,
            first_decision=max(start - cfg.execution.lag, 0),
            lag=cfg.execution.lag,
            rebalance=alloc.rebalance,
        )
        ms = plan.slots_per_date
        price = np.ascontiguousarray(slot_prices(panel, plan.asset_slot, ms)[start * ms :])
        size = np.ascontiguousarray(plan.size[start * ms :])
        rates = cost_rates(cfg.costs, panel.markets)
        vbt.settings["engine"] = args.engine

        def bare(price=price, size=size, rates=rates, cash=cfg.initial_cash, value: bool = True):
            pf = vbt.Portfolio.from_orders(
                close=price,
                size=size,
                size_type="targetpercent",
                direction="longonly",
                price=price,
                val_price=price,
                fees=rates.fees,
                slippage=rates.slippage,
                init_cash=cash,
                cash_sharing=True,
                group_by=True,
                call_seq="auto",
                engine=args.engine,
            )
            return float(pf.final_value()) if value else pf

        result = run_strategy(cfg, loaded, engine=args.engine)
        check = bare()
        if not np.isclose(check, result.value[-1], rtol=1e-9):
            print(f"{cfg.name}: MISMATCH bare final value {check} != engine {result.value[-1]}")
            return 1
        engine_ms = _median_ms(
            lambda cfg=cfg, loaded=loaded: run_strategy(cfg, loaded, engine=args.engine), args.repeat
        )
        bare_ms = _median_ms(bare, args.repeat)
        sim_ms = _median_ms(lambda bare=bare: bare(value=False), args.repeat)
        ratios.append(engine_ms / bare_ms)
        sim_ratios.append(engine_ms / sim_ms)
        print(
            f"{cfg.name:20s} {len(result.dates):6d} {len(result.trades):6d} "
            f"{engine_ms:10.1f} {bare_ms:8.1f} {engine_ms / bare_ms:6.2f} {sim_ms:9.1f} {engine_ms / sim_ms:6.2f}"
        )
    print(f"median ratio engine / (from_orders + final_value): {statistics.median(ratios):.2f} (aim: <= 1.30)")
    print(f"median ratio engine / from_orders alone:           {statistics.median(sim_ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

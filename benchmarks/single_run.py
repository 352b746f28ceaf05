"""Time the engine against a bare vectorbt call on the same orders, per shipped config.

For each config in configs/ on 23 years of real data (2002-01-01 .. 2024-12-31: the USD/HKD
history that converts Hong Kong prices starts in July 2001; CSV provider, ``SEESAW_DATA_DIR``
or ../shared/data):

* engine: ``run_strategy`` = signals + rules + order plan + simulation + metrics;
* bare:   ``Portfolio.from_orders(...)`` on the engine's own order plan and prices (in
  base-currency, cash-index units), plus ``final_value()``: the least a vectorbt user would run.
  The engine simulates a second group per allocation when a held asset is in a foreign
  currency (the frozen-FX counterfactual behind ``fx_return``); the bare call does not;
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
from engine.data.panel import load_for_config  # noqa: E402
from engine.pipeline import required_warmup, run_strategy  # noqa: E402
from engine.valuation import simulation_prices, valuation  # noqa: E402


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
    print(f"data: {data_dir} 2002-01-01..2024-12-31, engine={args.engine}, median of {args.repeat} runs")
    print(
        f"{'config':30s} {'dates':>6s} {'trades':>6s} {'engine ms':>10s} {'bare ms':>8s} {'ratio':>6s}"
        f" {'sim-only':>9s} {'ratio':>6s}"
    )
    ratios: list[float] = []
    sim_ratios: list[float] = []
    for path in sorted((REPO / "configs").glob("*.yaml")):
        cfg = load_config(path)
        if cfg.execution.max_gross is not None:  # docs/shorts.md: vectorbt's from_orders cannot debit financing
            print(f"{cfg.name:30s} skipped: a margin account, which a bare from_orders call cannot express")
            continue
        data = cfg.data.model_copy(update={"start": dt.date(2002, 1, 1), "end": dt.date(2024, 12, 31)})
        cfg = cfg.model_copy(update={"data": data})
        loaded = load_for_config(provider, cfg, warmup_rows=required_warmup(cfg))
        panel, start = loaded.panel, loaded.start
        result = run_strategy(cfg, loaded, engine=args.engine)
        plan = result.plan
        assert plan is not None
        ms = plan.slots_per_date
        yields = np.array([cfg.assets[a].dividend_yield for a in panel.assets])
        constant = cfg.cash_rate if isinstance(cfg.cash_rate, float) else None
        val = valuation(panel, dividend_yields=yields, cash_rate=constant, start=start)
        close, order = simulation_prices(val, panel.traded, plan.asset_slot, ms, cfg.execution.fill)
        price = np.ascontiguousarray(close[start * ms :])
        order_price = np.ascontiguousarray(order[start * ms :])
        size = np.ascontiguousarray(plan.size[start * ms :])
        rates = cost_rates(cfg.costs, cfg.assets, panel.assets, panel.dates)
        fees = np.ascontiguousarray(np.repeat(rates.fees, ms, axis=0)[start * ms :])
        vbt.settings["engine"] = args.engine

        def bare(
            price=price, order_price=order_price, size=size, fees=fees, rates=rates, cash=cfg.initial_cash, value=True
        ):
            pf = vbt.Portfolio.from_orders(
                close=price,
                size=size,
                size_type="targetpercent",
                direction="longonly",
                price=order_price,
                val_price=order_price,
                fees=fees,
                slippage=rates.slippage,
                init_cash=cash,
                cash_sharing=True,
                group_by=True,
                call_seq="auto",
                engine=args.engine,
            )
            return float(pf.final_value()) if value else pf

        check = bare() * val.cash_index[-1]  # back from cash-index units to money
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
            f"{cfg.name:30s} {len(result.dates):6d} {len(result.trades):6d} "
            f"{engine_ms:10.1f} {bare_ms:8.1f} {engine_ms / bare_ms:6.2f} {sim_ms:9.1f} {engine_ms / sim_ms:6.2f}"
        )
    print(f"median ratio engine / (from_orders + final_value): {statistics.median(ratios):.2f} (aim: <= 1.30)")
    print(f"median ratio engine / from_orders alone:           {statistics.median(sim_ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

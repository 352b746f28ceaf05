"""The overfitting statistics stored with every sweep (``sweep.json``): PBO by CSCV and the best combination's
deflated Sharpe ratio, from the chunks' block sums and the whole table of combinations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.metrics import significance as sig
from engine.sweep import SweepContext, evaluate_chunk

__all__ = ["overfitting_stats"]


def overfitting_stats(ctx: SweepContext, table: pd.DataFrame, blocks: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The overfitting controls shown with every sweep (engine/metrics/overfitting.py, engine/metrics/significance.py).

    * PBO by CSCV on the per-block sums of every combination's daily excess returns (16 blocks,
      all 12,870 splits), with the histogram of its logits; a combination without a Sharpe ratio over the
      run (no variation beyond rounding: never invested, or in cash earning the risk-free rate, whose
      excess returns are rounding noise of about 1e-17) scores cash's 0 on every half, its sums taken as 0
      (:func:`_cash_scored`), rather than a Sharpe ratio of its noise;
    * the deflated Sharpe ratio of the best combination by Sharpe: PSR of its daily excess returns
      against SR0, the expected maximum Sharpe of N unskilled trials, N = every combination tried,
      V = the variance of their (finite) per-period Sharpe ratios.
    """
    from engine.metrics.overfitting import logit_histogram, pbo_from_block_sums

    dates = ctx.dates
    ppy = m.periods_per_year(len(dates), m.years_between(dates[0].date(), dates[-1].date()))
    out: dict[str, Any] = {"periods_per_year": ppy}
    size = int(blocks["n"][0]) if len(blocks["n"]) else 0
    if len(table) >= 2 and size >= 1:
        _cash_scored(table, blocks)
        res = pbo_from_block_sums(
            blocks["sum"],
            blocks["sq"],
            size,
            n_rows_dropped=len(dates) - size * len(blocks["sum"]),
            overwrite_input=True,
        )
        edges, counts = logit_histogram(res, bins=20)
        out.update(
            pbo=res.pbo,
            pbo_splits=res.n_splits,
            pbo_split_count=len(res.logits),
            pbo_block_dates=res.block_size,
            pbo_prob_loss=res.prob_loss,
            pbo_tied_splits=int(np.count_nonzero(res.tied_winners > 1)),
            pbo_logit_hist={"edges": edges.tolist(), "counts": counts.tolist()},
        )
    sharpe = table["sharpe"].to_numpy(dtype=float)
    if np.isfinite(sharpe).any():
        best = int(np.nanargmax(sharpe))
        combo = table.iloc[[best]][list(ctx.cfg.sweep)]
        result = evaluate_chunk(ctx, combo, [int(table["combo"].iloc[best])], keep_returns=True)
        assert result.returns is not None
        trials = sharpe[np.isfinite(sharpe)] / np.sqrt(ppy)
        var = float(np.var(trials, ddof=1)) if len(trials) > 1 else 0.0
        sr0 = sig.expected_max_sharpe(len(table), var)
        out.update(
            best_combo=int(table["combo"].iloc[best]),
            best_sharpe=float(sharpe[best]),
            best_sr0_annualised=float(sr0 * np.sqrt(ppy)),
            best_dsr=sig.probabilistic_sharpe(result.returns[:, 0], benchmark_sharpe=sr0),
            dsr_trials=len(table),
        )
    return out


def _cash_scored(table: pd.DataFrame, blocks: Mapping[str, np.ndarray]) -> None:
    """The block sums of the combinations whose Sharpe ratio in ``table`` is NaN set to 0, in place: CSCV then
    scores them 0 on every half, as cash, by the rule that gives their Sharpe ratio (docs/methodology.md).

    Their excess returns are rounding noise when cash earns a rate (the run's value grows by the rate each day,
    and its return less the rate is about 1e-17); CSCV's own test of a flat half compares a half's spread
    with the combination's over the whole run, both noise, and scored them a Sharpe ratio of noise."""
    flat = table["combo"].to_numpy()[~np.isfinite(table["sharpe"].to_numpy(dtype=float))]
    if len(flat):
        blocks["sum"][:, flat] = 0.0
        blocks["sq"][:, flat] = 0.0

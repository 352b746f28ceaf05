"""The public surface of each module is its ``__all__``, listed here (STYLE.md 9: small public surface).

Each listed module's ``__all__`` must *equal* the set written below, so adding or dropping a public
name is a deliberate change to this file; every listed name must exist and appear once.  Modules
under restructuring (``engine.pipeline``, ``engine.sweep``, ``engine.walkforward``) are held only to
the structural checks: entries exist, are unique and are in ruff's RUF022 ("isort-style") order.
Every public module of ``engine/`` and ``strategies/`` (no underscored part, not ``__main__``) must
define ``__all__``; that check reads the source, so it does not depend on the modules importing.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

EXPECTED: dict[str, set[str]] = {
    "engine.api": {"Compared", "Run", "RunSet", "Sweep", "compare", "load_config", "run", "sweep"},
    "engine.calendar": {
        "MARKETS",
        "Market",
        "SessionStatus",
        "last_known_session",
        "market_rank",
        "next_index_at_or_after",
        "session_status",
        "sessions",
        "union_dates",
    },
    "engine.config": {
        "AssetSpec",
        "Benchmark",
        "Costs",
        "DataSpec",
        "Execution",
        "Rule",
        "StrategyConfig",
        "check_configs",
        "load_config",
        "load_configs",
        "read_yaml",
    },
    "engine.costs": {"BPS", "CostRates", "HK_STAMP_DUTY", "cost_rates", "stamp_duty_bps"},
    "engine.errors": {
        "ConfigError",
        "DataError",
        "ExpressionError",
        "MissingSeries",
        "SeesawError",
        "StoreError",
        "UserError",
        "printable",
    },
    "engine.execution": {"TARGET_EPS", "BatchPlan", "OrderPlan", "event_mask", "next_slots", "plan_batch"},
    "engine.expr": {
        "FUNCTIONS",
        "MAX_DEPTH",
        "MAX_LENGTH",
        "BinOp",
        "BoolOp",
        "Call",
        "Compare",
        "Expr",
        "Name",
        "Neg",
        "Not",
        "Number",
        "evaluate",
        "names",
        "parse_condition",
        "parse_number",
        "to_text",
    },
    "engine.expr_eval": {"Order", "evaluate"},
    "engine.expr_parse": {"parse_condition", "parse_number"},
    "engine.expr_tree": {
        "FUNCTIONS",
        "MAX_DEPTH",
        "MAX_LENGTH",
        "ArithOp",
        "BinOp",
        "BoolOp",
        "BoolOpName",
        "Call",
        "Compare",
        "CompareOp",
        "Expr",
        "Name",
        "Neg",
        "Not",
        "Number",
        "names",
        "to_text",
    },
    "engine.fill_curves": {"curves_from_fills", "fill_flows", "first_at_or_after", "reported_rows"},
    "engine.metrics.returns": {
        "CurvePasses",
        "annual_volatility",
        "average",
        "average_weights",
        "betas",
        "betas_from_covariances",
        "cagr",
        "calmar",
        "curve_passes",
        "daily_returns",
        "drawdowns",
        "excess_returns",
        "longest_drawdown_days",
        "max_drawdown",
        "periods_per_year",
        "ratios_from_moments",
        "resampled_sharpes",
        "risk_ratios",
        "sharpe",
        "sharpe_from_moments",
        "sortino",
        "total_return",
        "worst_year",
        "year_end_rows",
        "years_between",
    },
    "engine.metrics.cscv_blocks": {"BlockSums", "distinct_columns"},
    "engine.metrics.cscv_splits": {"pair_splits", "splits_nb", "winners_nb"},
    "engine.metrics.run_sums": {"PrefixSums", "column_prefix", "run_means", "run_sharpes", "sharpe_reducers"},
    "engine.metrics.resample": {
        "BATCH",
        "BATCH_BYTES",
        "Resampled",
        "evaluate",
        "optimal_block",
        "stationary_batches",
        "stationary_indices",
        "stationary_runs",
    },
    "engine.metrics.specs": {
        "CATALOG_COLUMNS",
        "COMPARE_COMPACT",
        "COMPARE_TABLE",
        "LOWER_IS_BETTER",
        "PERCENT_METRICS",
        "RUN_COMPACT",
        "RUN_TABLE",
        "SPECS",
        "SWEEP_COLUMNS",
        "SWEEP_TABLE",
        "WINDOW_METRICS",
        "Curves",
        "MetricSpec",
        "beta_label",
        "compute",
        "spec",
    },
    "engine.rules": {
        "CompiledRules",
        "Decisions",
        "compile_rules",
        "condition_mask",
        "decide",
        "deciding_rules",
        "decisions",
        "valid_weights",
    },
    "engine.signals": {
        "compute_signals",
        "rows_lacking",
        "signal_dependencies",
        "signal_key",
        "signal_lookback",
        "signal_order",
    },
    "engine.simulate": {
        "ENGINES",
        "BatchSim",
        "Engine",
        "SimResult",
        "from_fills",
        "group_rows",
        "simulate",
        "simulate_batch",
    },
    "engine.store": {"RunFiles", "config_hash", "new_run_id", "write_run"},
    "engine.uint128": {"mul128", "mulhi64"},
    "engine.valuation": {"Valuation", "cash_index", "dividend_growth", "simulation_prices", "slot_prices", "valuation"},
    "strategies": {
        "REGISTRY",
        "AssetRef",
        "SignalDef",
        "SignalInputs",
        "SignalRef",
        "all_signals",
        "get_signal",
        "load_plugins",
        "signal",
    },
    "strategies.contract": {"CUTS", "call_signal", "check_signal"},
    "strategies.errors": {
        "MAX_MESSAGE_CHARS",
        "PluginError",
        "SeesawError",
        "SignalContractError",
        "SignalError",
        "UserError",
        "printable",
    },
    "strategies.plugins": {
        "BUILTIN_ORIGIN",
        "GROUP",
        "all_signals",
        "get_signal",
        "load_plugins",
        "plugin_sources",
        "reset_plugins",
    },
    "strategies.registry": {"AssetRef", "REGISTRY", "SignalDef", "SignalInputs", "SignalRef", "get_signal", "signal"},
}

# Being restructured: their names are not pinned here yet, only the structure of their __all__.
UNPINNED = ("engine.pipeline", "engine.sweep", "engine.walkforward")


def _public_all(module: str) -> list[str]:
    names = importlib.import_module(module).__all__
    assert all(isinstance(name, str) for name in names), f"{module}.__all__ holds a non-string"
    return list(names)


def _check_structure(module: str, names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == [], f"{module}.__all__ lists {duplicates} more than once"
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert missing == [], f"{module}.__all__ lists names it does not define: {missing}"


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    """ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest; natural order within each."""
    if len(name) > 1 and name.upper() == name:
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_all_is_the_expected_public_surface(module: str) -> None:
    names = _public_all(module)
    _check_structure(module, names)
    assert set(names) == EXPECTED[module]


@pytest.mark.parametrize("module", UNPINNED)
def test_all_of_modules_under_restructuring_is_well_formed(module: str) -> None:
    names = _public_all(module)
    _check_structure(module, names)
    assert names == sorted(names, key=_isort_key), f"{module}.__all__ is not in RUF022 order"


def test_the_sort_key_is_ruffs() -> None:
    shuffled = ["run", "MAX_DEPTH", "Expr", "x10", "B", "x2", "ENGINES"]
    assert sorted(shuffled, key=_isort_key) == ["ENGINES", "MAX_DEPTH", "B", "Expr", "run", "x2", "x10"]


def _public_module_files() -> dict[str, Path]:
    """Every module of ``engine/`` and ``strategies/`` whose dotted name has no underscored part."""
    found = {}
    for package in ("engine", "strategies"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if not any(part.startswith("_") for part in parts):
                found[".".join(parts)] = path
    return found


def _defines_all(path: Path) -> bool:
    """Whether the module's top level assigns ``__all__`` (plain or annotated)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def test_every_public_module_defines_all() -> None:
    modules = _public_module_files()
    assert {"engine.api", "engine.expr", "engine.config", "strategies.registry"} <= set(modules)
    assert "engine.__main__" not in modules
    assert [m for m, path in modules.items() if not _defines_all(path)] == []


def test_the_all_finder_sees_a_missing_all(tmp_path: Path) -> None:
    with_all, without = tmp_path / "a.py", tmp_path / "b.py"
    with_all.write_text('"""Doc."""\n\n__all__: list[str] = ["f"]\n', encoding="utf-8")
    without.write_text('"""Doc."""\n\nALL = ["f"]\n', encoding="utf-8")
    assert _defines_all(with_all)
    assert not _defines_all(without)


def test_expected_modules_are_pinned_once() -> None:
    assert not set(EXPECTED) & set(UNPINNED)

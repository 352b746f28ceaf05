"""Strategy configs: YAML reading, pydantic models and cross-field checks."""

from engine.config.loader import check_configs, load_config, load_configs, read_yaml
from engine.config.models import (
    AssetSpec,
    Benchmark,
    Costs,
    DataSpec,
    Execution,
    Rule,
    StrategyConfig,
)

__all__ = [
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
]

"""Where runs are kept: run directories (and, later, the results catalog)."""

from engine.store.rundir import RunFiles, config_hash, new_run_id, write_run

__all__ = ["RunFiles", "config_hash", "new_run_id", "write_run"]

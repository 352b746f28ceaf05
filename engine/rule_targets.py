"""Targets given by rule: each date's deciding rule and each rule's weights, not an (n, K, A) array.

A sweep of rules whose weights are numbers decides, for each date and combination, only which rule is
in force; the targets are that rule's row of weights.  Spelled out, the targets of 100 combinations
over 6,600 dates and two assets are 10.6 MB, written once and read again to find the dates on which
they change.  :class:`RuleTargets` keeps the (n, K) rules and the (R, A) weights instead: the
scheduler (:func:`engine.execution_nb.schedule_nb`) reads a target through its rule, and
:meth:`RuleTargets.changed` compares two dates' rules through an (R, R) table of which rules' weights
differ, with the test :func:`engine.execution.event_mask` applies to the weights themselves (more than
``eps`` apart in some asset), so the events, the legs and the fills are those of the spelled-out
targets, bit for bit (``tests/unit/test_rule_targets.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["MAX_RULES", "RULE_DTYPE", "RuleTargets", "spelled_out"]

#: The compiled kernels read the rules as bytes (an eighth of the memory of 64-bit integers) ...
RULE_DTYPE = np.int8
#: ... so a table has at most this many rules (more: the targets are spelled out).
MAX_RULES = int(np.iinfo(RULE_DTYPE).max) + 1


@dataclass(frozen=True)
class RuleTargets:
    """(n, K, A) targets ``table[rule[d, k], j]``: ``rule`` (n, K) integer rows of ``table`` (R, A), at most
    :data:`MAX_RULES` rows."""

    rule: np.ndarray
    table: np.ndarray

    def __post_init__(self) -> None:
        rule, table = np.asarray(self.rule), np.asarray(self.table)
        if rule.ndim != 2 or table.ndim != 2 or not np.issubdtype(rule.dtype, np.integer):
            raise ValueError(f"rule must be (n, K) integers and table (R, A), got {rule.shape} and {table.shape}")
        if len(table) > MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} rules, got {len(table)}")
        if rule.size and (rule.min() < 0 or rule.max() >= len(table)):
            raise ValueError(f"a rule outside the table's {len(table)} rows")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, K, A), the shape of the targets spelled out."""
        return (*self.rule.shape, self.table.shape[1])

    def dense(self) -> np.ndarray:
        """The (n, K, A) targets spelled out."""
        return np.take(np.asarray(self.table, dtype=np.float64), self.rule, axis=0)

    def changed(self, columns: slice | np.ndarray, eps: float) -> np.ndarray:
        """(n, len(columns)) bool: rows whose targets differ from the previous row's by more than ``eps`` in
        some asset (row 0: False), in the columns ``columns``."""
        table = np.asarray(self.table, dtype=np.float64)
        differ = np.any(np.abs(table[:, None, :] - table[None, :, :]) > eps, axis=2)  # (R, R)
        distinct = bool(np.array_equal(differ, ~np.eye(len(table), dtype=bool)))  # then: differ iff another rule
        return _changed_nb(self.kernel_rule(columns), differ, distinct)

    def kernel_rule(self, columns: slice | np.ndarray = slice(None)) -> np.ndarray:
        """The rules of ``columns`` as the compiled kernels read them: (K, n), each column's dates in a row,
        C-contiguous :data:`RULE_DTYPE` (no copy when ``rule`` is that array transposed, as a sweep's is)."""
        return np.ascontiguousarray(self.rule[:, columns].T, dtype=RULE_DTYPE)


def spelled_out(targets: np.ndarray | RuleTargets) -> np.ndarray:
    """(n, K, A) targets, by rule or already spelled out."""
    return targets.dense() if isinstance(targets, RuleTargets) else targets


@numba.njit(cache=True, nogil=True)
def _changed_nb(rule: np.ndarray, differ: np.ndarray, distinct: bool) -> np.ndarray:  # pragma: no cover - compiled
    """(n, K) bool from the (K, n) rules: ``differ[rule[k, d], rule[k, d - 1]]`` from row 1 on; with
    ``distinct`` (no two rules' weights alike: ``differ`` is true off its diagonal only), ``rule[k, d] !=
    rule[k, d - 1]``, which the processor compares several dates at a time."""
    k, n = rule.shape
    out = np.zeros((k, n), dtype=np.bool_)
    for c in range(k):
        now, row = rule[c], out[c]
        if distinct:
            for d in range(1, n):
                row[d] = now[d] != now[d - 1]
        else:
            for d in range(1, n):
                row[d] = differ[now[d], now[d - 1]]
    return out.T

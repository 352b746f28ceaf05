"""What data a comparison's numbers are on, in the words its caption, title and HTML banner use.

A comparison may hold runs on several data sets: configs on different symbols (checked to agree on every
symbol they share), or, with ``--allow-mixed``, runs whose data were not checked, some of them perhaps on the
synthetic generator.  Every renderer says so with these words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.data.base import SYNTHETIC_LABEL

__all__ = ["data_words", "synthetic_words"]


def data_words(c: Any) -> str:
    """What a comparison ``c``'s caption says of its data: its fingerprint, or its fingerprints and either that
    they agree on every symbol the runs share or, when ``--allow-mixed`` let them through, how they differ."""
    if c.mixed is not None:  # --allow-mixed: the data were not checked to agree
        return (
            f"the runs are on different data ({c.mixed}), compared as --allow-mixed asks; "
            f"data fingerprints (each row's is in the CSV and JSON): {', '.join(c.fingerprints)}."
        )
    if len(c.fingerprints) == 1:
        return f"data fingerprint {c.fingerprints[0]}."
    return (
        f"{len(c.fingerprints)} data fingerprints (the runs' data differ in symbols, prices, currencies or "
        "dates; each row's is in the CSV and JSON), "
        "checked to agree on every symbol the runs share: " + ", ".join(c.fingerprints) + "."
    )


def synthetic_words(rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(title suffix, caption line) of a comparison some of whose ``rows`` are on synthetic data: every row, or
    only some (``--allow-mixed``), named then; ("", "") when none is."""
    synthetic = [str(r["name"]) for r in rows if r.get("synthetic")]
    if not synthetic:
        return "", ""
    if len(synthetic) == len(rows):
        return " — SYNTHETIC DATA", SYNTHETIC_LABEL
    return " — SYNTHETIC DATA IN SOME ROWS", (
        f"SYNTHETIC DATA in {len(synthetic)} of the {len(rows)} rows (generated prices, not market history): "
        f"{', '.join(synthetic)}; the other rows are on market data."
    )

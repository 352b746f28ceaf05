"""engine.store.csv_text writes the bytes pandas' ``to_csv(index=False, lineterminator="\\n")`` writes.

The oracle is pandas itself: every frame is written both ways and the texts compared, on frames shaped
like a run's tables (text dates, money, weights, rule numbers, trade sides) and on generated ones
(floats across the whole range with NaN, infinities and -0.0; ints; bools; text needing quotes or
beyond ASCII; frames without a float or a text column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.store.csv_text import csv_text


def _pandas(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def test_run_shaped_tables_are_written_as_pandas_writes_them() -> None:
    rng = np.random.default_rng(7)
    n = 500
    dates = pd.Series(pd.date_range("2002-01-02", periods=n, freq="B").strftime("%Y-%m-%d"), dtype="str")
    value = 1e6 * np.cumprod(1 + rng.normal(0.0003, 0.01, n))
    equity = pd.DataFrame({"date": dates, "value": value, "cash": value * 0.1, "us": value * 0.45, "hk": np.nan})
    targets, rules = rng.choice([0.0, 0.5, 1.0], n), rng.integers(1, 4, n)
    weights = pd.DataFrame({"date": dates, "us_target": targets, "us_actual": rng.random(n), "rule": rules})
    trades = pd.DataFrame(
        {
            "date": dates[:50],
            "asset": pd.Series(["us", "hk, ltd", 'say "hi"', None, ""] * 10, dtype="str"),
            "side": pd.Series(["buy", "sell"] * 25, dtype="str"),
            "quantity": rng.random(50) * 1e-7,
            "price": rng.random(50) * 1e17,
            "fees": np.full(50, -0.0),
            "filled": rng.random(50) > 0.5,
        }
    )
    for frame in (equity, weights, trades, equity.iloc[:0], trades[["asset"]]):
        assert csv_text(frame) == _pandas(frame)


def test_a_column_of_another_type_is_left_to_pandas() -> None:
    frame = pd.DataFrame({"when": pd.date_range("2020-01-01", periods=3), "x": [1.5, np.nan, 2.0]})
    frame["n"] = np.array([1, 2, 3], dtype=np.int32)
    assert csv_text(frame) == _pandas(frame)
    assert csv_text(pd.DataFrame()) == _pandas(pd.DataFrame())


_EDGES = [0.0, -0.0, 1e-4, 9.999999999999999e-5, 1e-5, 1e15, 1e16, 9999999999999998.0, 5e-324, 1.7976931348623157e308]
_floats = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([*_EDGES, 0.1 + 0.2])


@settings(max_examples=200, deadline=None)
@given(
    floats=st.lists(_floats, min_size=1, max_size=30),
    texts=st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8))),
)
def test_generated_frames_are_written_as_pandas_writes_them(floats: list[float], texts: list[str | None]) -> None:
    n = len(floats)
    texts = (texts + ["x"] * n)[:n]
    frame = pd.DataFrame(
        {
            "f": np.array(floats, dtype=np.float64),
            "i": np.arange(n, dtype=np.int64) * -(10**12),
            "b": np.arange(n) % 2 == 0,
            "t": pd.Series(texts, dtype="str"),
        }
    )
    for part in (frame, frame[["t"]], frame[["i", "t"]], frame[["f", "b", "f"]]):  # no float, no text, twice
        assert csv_text(part) == _pandas(part)


def test_text_beyond_utf_8_is_written_as_pandas_writes_it() -> None:
    # a Python string column may hold a lone surrogate, which pandas writes into its text as it is
    frame = pd.DataFrame(
        {"t": pd.Series(["a\ud800b", "é,x", None], dtype=pd.StringDtype("python")), "x": [1.0, 2.0, 3.5]}
    )
    assert csv_text(frame) == _pandas(frame)


@pytest.mark.parametrize("name", [None, 0, "a,b", 'q"'])
def test_headers_are_written_as_pandas_writes_them(name: object) -> None:
    frame = pd.DataFrame({name: [1.0, 2.0], "y": [3, 4]})
    assert csv_text(frame) == _pandas(frame)

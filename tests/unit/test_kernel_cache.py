"""engine/kernel_cache.py: numba's cache files go when any source file changes, not only the kernel's own."""

from __future__ import annotations

from pathlib import Path

from engine.kernel_cache import MARK, keep_in_step, source_hash


def _cached(root: Path) -> list[Path]:
    files = [root / "__pycache__" / "splits.splits_nb-40.py311.nbi", root / "m" / "__pycache__" / "k.f-3.py311.1.nbc"]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"compiled")
    return files


def test_the_cache_goes_when_any_source_file_changes_and_stays_otherwise(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "splits.py").write_text("from m.k import f\n", encoding="utf-8")
    (tmp_path / "m" / "k.py").write_text("def f(): return 1\n", encoding="utf-8")
    files = _cached(tmp_path)
    other = tmp_path / "__pycache__" / "splits.cpython-311.pyc"  # Python's own bytecode is not numba's
    other.write_bytes(b"bytecode")
    assert keep_in_step(tmp_path)  # no mark yet: what is cached cannot be vouched for
    assert not any(f.exists() for f in files) and other.exists()
    assert (tmp_path / "__pycache__" / MARK).read_text(encoding="ascii") == source_hash(tmp_path)
    files = _cached(tmp_path)
    assert not keep_in_step(tmp_path) and all(f.exists() for f in files)  # the source as marked: kept
    (tmp_path / "m" / "k.py").write_text("def f(): return 2\n", encoding="utf-8")  # only the callee's module
    assert keep_in_step(tmp_path) and not any(f.exists() for f in files)
    (tmp_path / "m" / "k2.py").write_text("", encoding="utf-8")  # a new file changes the hash too
    files = _cached(tmp_path)
    assert keep_in_step(tmp_path) and not any(f.exists() for f in files)


def test_a_cache_it_cannot_mark_is_left_and_nothing_raises(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "__pycache__").write_text("not a directory", encoding="utf-8")  # cannot hold the mark
    assert keep_in_step(tmp_path)  # said changed every time, and no exception
    assert keep_in_step(tmp_path)

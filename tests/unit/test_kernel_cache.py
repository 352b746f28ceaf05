"""engine/kernel_cache.py: numba's cache files go when any source file changes, not only the kernel's own."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from numba.core.caching import UserProvidedCacheLocator

from engine import kernel_cache
from engine.kernel_cache import MARK, keep_in_step, source_hash


@pytest.fixture(autouse=True)
def _no_cache_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)


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


def test_upgrading_a_package_compiled_into_the_kernels_clears_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "k.py").write_text("def f(): return 1\n", encoding="utf-8")
    assert keep_in_step(tmp_path)
    files = _cached(tmp_path)
    assert not keep_in_step(tmp_path) and all(f.exists() for f in files)
    installed = importlib.metadata.version
    monkeypatch.setattr(
        kernel_cache.importlib.metadata,
        "version",
        lambda name: "99.0" if name == "vectorbt" else installed(name),  # vectorbt's order primitives changed
    )
    assert keep_in_step(tmp_path) and not any(f.exists() for f in files)


def test_with_numba_cache_dir_its_subdirectories_for_the_source_are_cleared_and_marked_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, cache = tmp_path / "pkg", tmp_path / "numba-cache"
    (src / "m").mkdir(parents=True)
    (src / "a.py").write_text("x = 1\n", encoding="utf-8")
    (src / "m" / "k.py").write_text("def f(): return 1\n", encoding="utf-8")
    # where numba itself puts the cache of a file in each source directory
    located = [
        cache / UserProvidedCacheLocator.get_suitable_cache_subpath(str(f)) for f in (src / "a.py", src / "m" / "k.py")
    ]
    others = cache / "portfolio_0123456789abcdef"  # another package's kernels (vectorbt's): not Seesaw's to clear
    for d in [*located, others]:
        d.mkdir(parents=True)
        (d / "k.f-3.py311.1.nbc").write_bytes(b"compiled")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    assert keep_in_step(src)
    assert not any((d / "k.f-3.py311.1.nbc").exists() for d in located)
    assert (others / "k.f-3.py311.1.nbc").exists()
    assert not (src / "__pycache__" / MARK).exists()  # the mark lives with the cache it vouches for
    for d in located:
        (d / "k.f-3.py311.1.nbc").write_bytes(b"compiled")
    assert not keep_in_step(src) and all((d / "k.f-3.py311.1.nbc").exists() for d in located)
    monkeypatch.delenv("NUMBA_CACHE_DIR")  # the in-tree cache has no mark of its own yet: not vouched for
    assert keep_in_step(src)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    (src / "m" / "k.py").write_text("def f(): return 2\n", encoding="utf-8")
    assert keep_in_step(src) and not any((d / "k.f-3.py311.1.nbc").exists() for d in located)

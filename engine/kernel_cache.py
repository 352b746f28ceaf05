"""Numba's on-disk cache of Seesaw's compiled kernels, kept in step with the source.

Numba drops a cached kernel when the file that defines it changes, not when a function it calls from another
module does: it compiles the callees into the kernel, so after an edit of :mod:`engine.metrics.cscv_kernels`
alone the cached kernels of :mod:`engine.metrics.cscv_splits` would go on running the old code (a source tree
updated in place, ``git pull`` over an editable install, is where that happens; a new install writes every
file).  So the cache is marked with a hash of every source file of the package (``__pycache__/kernels.sha256``);
when the source no longer matches the mark, every numba cache file under the package (``*.nbi``, ``*.nbc``) is
removed before any kernel loads, and the kernels compile again once.  Hashing the source takes about 5 ms.

The kernels also compile in code of other packages (vectorbt's order primitives, numpy's), which numba does not
check either: the mark includes the installed versions of vectorbt, numba and numpy, so upgrading one of them
clears the cache as an edit does.  With ``NUMBA_CACHE_DIR`` set, numba keeps the cache in that directory, one
subdirectory per source directory (``<name>_<sha1 of its absolute path>``): those subdirectories are what is
cleared, and that directory holds its own mark, so a cache filled there before an edit is not vouched for by a
mark written elsewhere after it.  Only the environment variable is read (importing numba to read its config
would cost every command about 0.15 s).  Not reached either: the user-wide cache numba falls back to
when the package's own directory is read-only (a system install); there an upgrade of vectorbt alone leaves
Seesaw's kernels compiled with the old version until that cache is cleared.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
from pathlib import Path

__all__ = ["COMPILED_IN", "MARK", "cache_dirs", "keep_in_step", "source_hash"]

#: The file, in the package's ``__pycache__`` (or ``NUMBA_CACHE_DIR``), holding the hash its cached kernels were
#: built from.
MARK = "kernels.sha256"

#: The packages whose code numba compiles into the kernels: their installed versions are part of the mark.
COMPILED_IN = ("vectorbt", "numba", "numpy")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def source_hash(root: Path) -> str:
    """sha256 of every ``*.py`` file under ``root`` (its path and bytes, in path order) and of the installed
    versions of :data:`COMPILED_IN`."""
    h = hashlib.sha256()
    for package in COMPILED_IN:
        h.update(f"{package}=={_version(package)}\n".encode())
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_dirs(root: Path, cache_dir: str | None) -> tuple[list[Path], Path]:
    """Where numba keeps the cached kernels of the source under ``root``, and the mark's file: the ``__pycache__``
    next to each source file; with ``cache_dir`` (``NUMBA_CACHE_DIR``) numba's subdirectory of it for each
    source directory (numba's ``UserProvidedCacheLocator``)."""
    if not cache_dir:
        return [root], root / "__pycache__" / MARK
    sources = sorted({os.path.abspath(path.parent) for path in root.rglob("*.py")}) or [os.path.abspath(root)]
    located = [f"{os.path.basename(d)}_{hashlib.sha1(d.encode()).hexdigest()}" for d in sources]
    return [Path(cache_dir, name) for name in located], Path(cache_dir, f"{located[0]}.{MARK}")


def keep_in_step(root: Path, cache_dir: str | None = None) -> bool:
    """Remove numba's cache files of the source under ``root`` when the source (or a package compiled in) changed
    since they were marked; True if it did.  ``cache_dir``: numba's ``NUMBA_CACHE_DIR`` (read from the environment
    when not given).  A cache it cannot remove or mark (a read-only install) is left as it is: numba recompiles
    what changed in the files it can see, and a new install changes them all."""
    digest = source_hash(root)
    dirs, mark = cache_dirs(root, os.environ.get("NUMBA_CACHE_DIR") if cache_dir is None else cache_dir)
    with contextlib.suppress(OSError):
        if mark.read_text(encoding="ascii") == digest:
            return False
    for d in dirs:
        for pattern in ("*.nbi", "*.nbc"):
            for stale in d.rglob(pattern):
                with contextlib.suppress(OSError):
                    stale.unlink()
    with contextlib.suppress(OSError):
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(digest, encoding="ascii")
    return True

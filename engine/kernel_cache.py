"""Numba's on-disk cache of Seesaw's compiled kernels, kept in step with the source.

Numba drops a cached kernel when the file that defines it changes, not when a function it calls from another
module does: it compiles the callees into the kernel, so after an edit of :mod:`engine.metrics.cscv_kernels`
alone the cached kernels of :mod:`engine.metrics.cscv_splits` would go on running the old code (a source tree
updated in place, ``git pull`` over an editable install, is where that happens; a new install writes every
file).  So the cache is marked with a hash of every source file of the package (``__pycache__/kernels.sha256``);
when the source no longer matches the mark, every numba cache file under the package (``*.nbi``, ``*.nbc``) is
removed before any kernel loads, and the kernels compile again once.  Hashing the source takes about 5 ms.

With ``NUMBA_CACHE_DIR`` set, numba keeps its cache there instead, where this does not reach: clear that
directory after changing Seesaw's source.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

__all__ = ["MARK", "keep_in_step", "source_hash"]

#: The file, in the package's ``__pycache__``, holding the hash of the source its cached kernels were built from.
MARK = "kernels.sha256"


def source_hash(root: Path) -> str:
    """sha256 of every ``*.py`` file under ``root``: its path and bytes, in path order."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def keep_in_step(root: Path) -> bool:
    """Remove numba's cache files under ``root`` when its source changed since they were marked; True if it did.
    A cache it cannot remove or mark (a read-only install) is left as it is: numba recompiles what changed in
    the files it can see, and a new install changes them all."""
    digest = source_hash(root)
    mark = root / "__pycache__" / MARK
    with contextlib.suppress(OSError):
        if mark.read_text(encoding="ascii") == digest:
            return False
    for pattern in ("*.nbi", "*.nbc"):
        for stale in root.rglob(pattern):
            with contextlib.suppress(OSError):
                stale.unlink()
    with contextlib.suppress(OSError):
        mark.parent.mkdir(exist_ok=True)
        mark.write_text(digest, encoding="ascii")
    return True

"""numba's cached kernels, loaded into the server so that no command loads them again.

A command loads each kernel it calls from numba's on-disk cache, about 0.4 s for a run; the
server loads them once, before it forks, and runs none (so no thread pool starts in it).  Only
entries numba itself would load are taken: the same signature, processor and bytecode hash.  A
kernel a command compiled (after an install or upgrade numba's cache starts empty) is loaded the
next time the server looks: before each command and every half-minute while idle, it compares the
modification time of each kernel's cache index (about 2 ms for the 327 cached functions of the
imported packages).  numba's cache layout is internal to numba, so on any surprise a kernel is
left to the commands, which load it as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

__all__ = ["Kernels"]


class Kernels:
    """The cached numba functions of some modules, and how many of their kernels this process loaded."""

    def __init__(self, dispatchers: list[Any]) -> None:
        self.dispatchers = dispatchers
        self.loaded = 0
        self._stamps: dict[int, tuple[int, int]] = {}

    @classmethod
    def of_imported_modules(cls, modules: Iterable[ModuleType] | None = None) -> Kernels:
        """Every cached numba function defined at the top level of ``modules`` (default: all imported)."""
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher

        found: dict[int, Any] = {}
        for module in list(sys.modules.values()) if modules is None else modules:
            for value in list(getattr(module, "__dict__", {}).values()):
                kernel: Any = value  # numba's cache attributes are not in its type stubs
                if isinstance(value, CPUDispatcher) and not isinstance(kernel._cache, NullCache):
                    found[id(value)] = value
        return cls(list(found.values()))

    def refresh(self) -> int:
        """Load what each function's cache gained since the last look; how many kernels were loaded."""
        loaded = 0
        for kernel in self.dispatchers:
            try:
                info = os.stat(kernel._cache._cache_file._index_path)
            except (AttributeError, OSError):
                continue
            stamp = (info.st_mtime_ns, info.st_size)
            if self._stamps.get(id(kernel)) == stamp:
                continue
            self._stamps[id(kernel)] = stamp
            loaded += _load(kernel)
        self.loaded += loaded
        return loaded


def _load(kernel: Any) -> int:
    """Load the kernels of ``kernel``'s cache index that numba would load; how many were new."""
    from numba.core.sigutils import normalize_signature

    try:
        codegen = kernel.targetctx.codegen()
        new = 0
        for key in kernel._cache._cache_file._load_index():
            args = tuple(normalize_signature(key[0])[0])
            if kernel._cache._index_key(key[0], codegen) == key and args not in kernel.overloads:
                kernel.compile(key[0])
                new += 1
        return new
    except Exception as err:  # a kernel left to the commands, as without a server
        print(f"not preloaded: {getattr(kernel, '__qualname__', kernel)}: {err!r}", flush=True)
        return 0

"""Signals from other installed packages: entry points of group ``seesaw.signals``.

A package registers signals with the same :func:`strategies.registry.signal` decorator the
built-in ones use, and names the module that holds them in its ``pyproject.toml``::

    [project.entry-points."seesaw.signals"]
    my_signals = "my_package.signals"

:func:`load_plugins` imports every such module once per process, the first time a signal is
looked up (:func:`get_signal`, :func:`all_signals`), so ``import strategies`` stays cheap.
Each signal a package registers is marked with its origin, the distribution's name; the
engine checks the output of such signals against the contract on the data they are used on
(:mod:`strategies.contract`).  A package whose entry point fails to import, registers a
signal name already taken, or registers nothing raises :class:`~strategies.errors.PluginError`
(one line naming the entry point and the distribution).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
import threading
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from strategies import registry
from strategies.errors import PluginError
from strategies.registry import REGISTRY, SignalDef

__all__ = ["BUILTIN_ORIGIN", "GROUP", "all_signals", "get_signal", "load_plugins", "plugin_sources", "reset_plugins"]

#: The entry-point group a package declares its signal modules in.
GROUP = "seesaw.signals"
#: The origin of the signals that ship with Seesaw.
BUILTIN_ORIGIN = "seesaw"


@dataclasses.dataclass
class _Loaded:
    """What :func:`load_plugins` did in this process."""

    done: bool = False
    error: PluginError | None = None
    names: tuple[str, ...] = ()


_lock = threading.RLock()
_loaded = _Loaded()
_TAKEN = re.compile(r"signal '(?P<name>[^']+)' is registered twice")


def load_plugins() -> None:
    """Import every entry point of group :data:`GROUP`, once per process.

    Raises :class:`PluginError` for the first entry point that fails (and again on every later
    call, so a broken package is never half-used silently).
    """
    with _lock:
        if _loaded.done:
            if _loaded.error is not None:
                raise _loaded.error
            return
        _loaded.done = True  # before loading: a plugin that looks signals up at import does not recurse
        names: list[str] = []
        try:
            for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
                names.extend(_load(ep))
        except PluginError as err:
            _loaded.error = err
            raise
        finally:
            _loaded.names = tuple(names)


def reset_plugins() -> None:
    """Forget what :func:`load_plugins` did: the signals it registered leave the registry and the
    next lookup scans the entry points again (for tests that install a package on ``sys.path``)."""
    with _lock:
        for name in _loaded.names:
            REGISTRY.pop(name, None)
        _loaded.done, _loaded.error, _loaded.names = False, None, ()


def get_signal(name: str) -> SignalDef:
    """The registered signal ``name``, built-in or from a package (loaded first); ``KeyError`` with a
    did-you-mean message when there is none."""
    load_plugins()
    return registry.get_signal(name)


def all_signals() -> dict[str, SignalDef]:
    """Every registered signal by name, built-in and from packages (loaded first), sorted by name."""
    load_plugins()
    return dict(sorted(REGISTRY.items()))


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return str(dist.name) if dist is not None and getattr(dist, "name", None) else ep.value


def _owned_by(sdef: SignalDef, module: str, dist: str) -> bool:
    """A signal defined in ``module`` (or below) that was registered before its entry point loaded:
    the module was imported already, or by another entry point of the same package."""
    where = getattr(sdef.func, "__module__", "") or ""
    return (
        getattr(sdef, "origin", BUILTIN_ORIGIN) in (BUILTIN_ORIGIN, dist)
        and not where.startswith("strategies.")
        and (where == module or where.startswith(module + "."))
    )


def _load(ep: EntryPoint) -> list[str]:
    """Import one entry point; mark the signals it registered with its distribution; their names."""
    dist = _distribution(ep)
    label = f"signal plugin {ep.name!r} ({ep.value}) of package {dist!r}"
    before = set(REGISTRY)

    def registered() -> list[str]:
        return sorted(n for n, s in REGISTRY.items() if n not in before or _owned_by(s, ep.module, dist))

    try:
        ep.load()
        if not registered() and ep.module in sys.modules:
            # imported before, its signals since taken out of the registry (reset_plugins): run its decorators
            # again, in its submodules first (a package's __init__ importing them would find them imported)
            inner = sorted(n for n in list(sys.modules) if n.startswith(ep.module + "."))
            for name in [*reversed(inner), ep.module]:
                importlib.reload(sys.modules[name])
    except Exception as exc:  # anything a package's import raises is that package's mistake
        for name in set(REGISTRY) - before:
            REGISTRY.pop(name, None)
        taken = _TAKEN.search(str(exc)) if isinstance(exc, ValueError) else None
        if taken:
            owner = getattr(REGISTRY.get(taken["name"]), "origin", BUILTIN_ORIGIN)
            message = f"{label} registers signal {taken['name']!r}, a name already taken by package {owner!r}"
            raise PluginError(message, signal=taken["name"], distribution=dist, got=f"{ep.name} = {ep.value}") from None
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise PluginError(
            f"{label} failed to import: {detail}", distribution=dist, got=f"{ep.name} = {ep.value}"
        ) from None
    names = registered()
    if not names:
        raise PluginError(
            f"{label} registers no signal (decorate functions with strategies.signal in the module it names)",
            distribution=dist,
            got=f"{ep.name} = {ep.value}",
        )
    for name in names:
        REGISTRY[name] = dataclasses.replace(REGISTRY[name], origin=dist)
    return names


def plugin_sources() -> list[tuple[str, str, Path]]:
    """Every source file of the packages that declare a signal module, found without importing any: for each
    entry point of group :data:`GROUP`, ``name=value``, each ``.py`` file of the top-level package its module
    lives in (or the module's own file) named relative to that package (the same plugin installed elsewhere
    names its files alike) and its path, sorted.  Part of the code a stored run is reused by
    (:func:`engine.store.rundir.code_fingerprint`): editing a plugin's signal runs its configs again."""
    out: list[tuple[str, str, Path]] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        label = f"{ep.name}={ep.value}"
        try:
            spec = importlib.util.find_spec(ep.module.split(".")[0])
        except (ImportError, ValueError):  # the import itself will say what is wrong
            spec = None
        if spec is None:
            out.append((label, "", Path()))
        elif spec.submodule_search_locations:
            for d in map(Path, spec.submodule_search_locations):
                out += [(label, p.relative_to(d).as_posix(), p) for p in sorted(d.rglob("*.py"))]
        elif spec.origin:
            out.append((label, Path(spec.origin).name, Path(spec.origin)))
    return out

"""Where Seesaw keeps what it can fetch or compute again: downloaded price frames
(:mod:`engine.data.cache`) and exchange sessions (:mod:`engine.calendar`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["default_cache_dir"]


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """Where the cache lives, from an explicitly passed environment mapping.

    ``$SEESAW_CACHE_DIR`` if set and non-empty, else ``$XDG_CACHE_HOME/seesaw``,
    else ``$HOME/.cache/seesaw`` (the user's home directory when ``HOME`` is unset).

    >>> default_cache_dir({"SEESAW_CACHE_DIR": "/tmp/c"}).as_posix()
    '/tmp/c'
    >>> default_cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}).as_posix()
    '/x/seesaw'
    >>> default_cache_dir({"HOME": "/h"}).as_posix()
    '/h/.cache/seesaw'
    """
    if env.get("SEESAW_CACHE_DIR"):
        return Path(env["SEESAW_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "seesaw"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".cache" / "seesaw"

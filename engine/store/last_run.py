"""Which stored run ``latest`` names: the one the last command that runs configs ran or reused.

``seesaw run`` and ``seesaw compare`` of configs (and whatever else runs configs: ``episodes --configs``,
:func:`engine.api.run`, :func:`engine.api.compare`), and ``seesaw walkforward``, show a run they computed or
found already stored (reused).  ``seesaw report latest`` means the run the user just made, so each of those
commands notes the run id of its last config's run (shown or not, with ``--top``) in ``.last-run`` in the
results directory (a hidden file, whole or not at all); ``latest`` is that run while it is stored and
complete, else the most recently created complete run (:meth:`engine.store.catalog.Catalog.latest`).
Concurrent commands: the last one to finish is the one noted.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from engine.errors import StoreError
from engine.store.rundir import write_atomic

__all__ = ["LAST_RUN", "last_run_id", "note_last_run"]

#: The file in the results directory holding the run id of the last config's run of the last such command.
LAST_RUN = ".last-run"
#: A run id (:func:`engine.store.rundir.new_run_id`), with the suffix a second run of the same id and second gets.
_RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}(-[0-9]+)?$")


def note_last_run(results_dir: Path, run_dir: Path) -> None:
    """Note ``run_dir`` (a stored run under ``results_dir``) as the run ``latest`` names.

    Best effort: in a results directory that cannot take the file (read-only, say) the note stays what it was
    (``latest`` the run noted before, or the most recently created one when none was); the command's own output
    is not affected."""
    with contextlib.suppress(OSError, StoreError):
        write_atomic(results_dir / LAST_RUN, lambda p: p.write_text(run_dir.name + "\n", encoding="utf-8"))


def last_run_id(results_dir: Path) -> str | None:
    """The run id noted by :func:`note_last_run` (None: none noted, or the file is not one's)."""
    try:
        text = (results_dir / LAST_RUN).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if _RUN_ID.match(text) else None

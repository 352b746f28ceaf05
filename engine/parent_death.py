"""A child process that must not outlive the process that forked it (a command's, a worker's).

Linux's ``PR_SET_PDEATHSIG`` has the kernel send the child SIGKILL when its parent dies; elsewhere the
request is skipped and the caller relies on its pipe or socket closing.  A parent that died before the
request took effect is caught by comparing ``getppid`` with the pid the child was forked from.
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["die_with"]


def die_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` (the pid it was forked from) dies; exit at once
    if it already has."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)

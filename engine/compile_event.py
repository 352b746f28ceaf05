"""numba's compile event (``numba:compile``): a listener that calls back once, on the first compile.

numba raises the event around every compilation, which happens only on a cache miss (after an
install or upgrade).  A command shows a note when it starts (:func:`engine.cli.options.compile_notice`),
and a worker process tells its parent instead (:mod:`engine.jobs.config_workers`).  numba is imported
when a listener is made, not with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["first_compile_listener"]


def first_compile_listener(on_first: Callable[[], None]) -> Any:
    """A ``numba.core.event.Listener`` calling ``on_first()`` when the first compile starts, and never again."""
    from numba.core import event

    class FirstCompile(event.Listener):
        called = False

        def on_start(self, ev: event.Event) -> None:
            if not self.called:
                self.called = True
                on_first()

        def on_end(self, ev: event.Event) -> None:
            pass

    return FirstCompile()

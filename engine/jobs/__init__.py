"""One module per command family: read configs and data, call the pure pipeline, write the store.

:mod:`engine.jobs.common` holds what every command shares (options, data providers, the catalog);
:mod:`engine.jobs.run`, :mod:`engine.jobs.compare`, :mod:`engine.jobs.report`,
:mod:`engine.jobs.sweep` and :mod:`engine.jobs.walkforward` one command family each.  Jobs never
print or exit: :mod:`engine.cli` does.
"""

__all__: list[str] = []

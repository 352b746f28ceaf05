"""Every command-line option that more than one command takes, declared once, and the one error handler.

A command names an option by its type here (``source: SourceOpt = None``), so its flag, help and
checks are the same wherever it appears.  :func:`user_errors` turns a user's mistake into one
line on stderr and exit code 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from engine.compile_event import first_compile_listener
from engine.errors import UserError

if TYPE_CHECKING:
    from engine.jobs.common import RunOptions
    from engine.render.fit import Printout

__all__ = [
    "COMPILING",
    "PATH",
    "PATH_ARG",
    "CacheDirOpt",
    "ColumnsOpt",
    "ConfigsArg",
    "DataDirOpt",
    "EndOpt",
    "EngineChoice",
    "EngineOpt",
    "ForceOpt",
    "OfflineOpt",
    "PngOpt",
    "ResultsDirOpt",
    "RunColumnsOpt",
    "Source",
    "SourceOpt",
    "StartOpt",
    "StoreOpt",
    "compile_notice",
    "err_console",
    "joined",
    "out_console",
    "print_printout",
    "print_written",
    "run_options",
    "stopped_once_stored",
    "table_width",
    "user_errors",
]


class Source(StrEnum):
    yahoo = "yahoo"
    csv = "csv"
    synthetic = "synthetic"


class EngineChoice(StrEnum):
    rust = "rust"
    numba = "numba"


def _path_typed(text: str | Path) -> Path:
    """A path typed on the command line, refused when empty or only spaces: ``Path("")`` is the current directory,
    which a forgotten value (``--results-dir "$UNSET"``, ``seesaw validate ''``) would silently become.  A default
    is a Path already."""
    if isinstance(text, Path):
        return text
    if not text.strip():
        raise typer.BadParameter(f"expected a path, got {text!r}")
    return Path(text)


#: What every path option passes ``typer.Option``: :func:`_path_typed`, shown as typer shows a path; and every path
#: argument ``typer.Argument`` (its metavar would stand for its name in an error).
PATH: dict[str, Any] = {"parser": _path_typed, "metavar": "<path>"}
PATH_ARG: dict[str, Any] = {"parser": _path_typed}

ConfigsArg = Annotated[
    list[Path],
    typer.Argument(help="Config files (or directories of *.yaml).", **PATH_ARG),
]
SourceOpt = Annotated[
    Source | None, typer.Option(help="Override data.source: yahoo (internet, cached), csv, synthetic (offline).")
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        **PATH, help="Directory of Yahoo-style CSVs for --source csv (default: data.data_dir, else $SEESAW_DATA_DIR)."
    ),
]
StartOpt = Annotated[str | None, typer.Option(help="Override data.start (YYYY-MM-DD, or auto).")]
EndOpt = Annotated[str | None, typer.Option(help="Override data.end (YYYY-MM-DD).")]
ResultsDirOpt = Annotated[
    Path,
    typer.Option(
        envvar="SEESAW_RESULTS_DIR",
        **PATH,
        show_envvar=False,  # said in the help, where typer's own brackets would be cut
        help="Where run directories are written and read (default: $SEESAW_RESULTS_DIR, else results).",
    ),
]
EngineOpt = Annotated[EngineChoice, typer.Option(help="vectorbt simulation engine (pinned, never 'auto').")]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(**PATH, help="Yahoo download cache (default: $SEESAW_CACHE_DIR, else ~/.cache/seesaw)."),
]
OfflineOpt = Annotated[bool, typer.Option(help="Yahoo: use the cache only, never download.")]
StoreOpt = Annotated[
    Path | None,
    typer.Option(**PATH, help="Results catalog (default: $SEESAW_STORE, else RESULTS_DIR/seesaw.duckdb)."),
]
ForceOpt = Annotated[bool, typer.Option(help="Run again even if an identical run (config, data, code) is stored.")]
ProcessesOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Processes loading, running and writing the configs (default: the cores, up to 8; 1: this process only).",
    ),
]
_COLUMNS = (
    "Terminal table columns: a comma-separated list (e.g. cagr,sharpe,max_drawdown; or the option repeated) or 'all' "
    "(default: a compact set); also narrows "
)
ColumnsOpt = Annotated[
    list[str] | None,
    typer.Option(help=_COLUMNS + "--format markdown, csv and json (not the HTML report), which show all by default."),
]
RunColumnsOpt = Annotated[list[str] | None, typer.Option(help=_COLUMNS + "--format json, which shows all by default.")]


def joined(values: list[str] | None) -> str | None:
    """A list option given several times (``--columns a --columns b``) as the one comma-separated text it may also
    be given as (``a,b``): none is dropped; None when not given."""
    return ",".join(values) if values else None


PngOpt = Annotated[
    Path | None, typer.Option(**PATH, help="Also write each chart of the report as DIR/<chart>.png (Chromium).")
]


def run_options(
    source: Source | None,
    data_dir: Path | None,
    start: str | None,
    end: str | None,
    results_dir: Path,
    engine: EngineChoice,
    store: Path | None,
    force: bool,
    cache_dir: Path | None,
    offline: bool,
    workers: int | None = None,
    *,
    writes: bool = True,
) -> RunOptions:
    """The jobs' :class:`~engine.jobs.common.RunOptions` from the shared options' values; ``writes``: the command
    writes under ``results_dir``, which must then not be a file."""
    from engine.jobs.common import RunOptions, parse_date, parse_start  # the jobs load only when a command runs
    from engine.output_paths import check_results_dir

    if writes:
        check_results_dir(results_dir, "--results-dir, SEESAW_RESULTS_DIR")
    return RunOptions(
        source=source.value if source else None,
        data_dir=data_dir,
        start=parse_start(start, "--start"),
        end=parse_date(end, "--end"),
        results_dir=results_dir,
        engine=engine.value,
        cache_dir=cache_dir,
        offline=offline,
        store=store,
        force=force,
        workers=workers,
    )


def read_options(
    source: Source | None,
    data_dir: Path | None,
    start: str | None,
    end: str | None,
    cache_dir: Path | None,
    offline: bool,
) -> RunOptions:
    """:func:`run_options` of a command that reads configs and data and writes no results (``today``, ``audit``)."""
    return run_options(
        source, data_dir, start, end, Path("results"), EngineChoice.rust, None, False, cache_dir, offline, writes=False
    )


def err_console() -> Console:
    """stderr, no markup or highlighting, lines never wrapped."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def out_console(piped_width: int = 240) -> Console:
    """stdout: the terminal's width, or ``piped_width`` columns when piped."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else piped_width)


def table_width(env: Mapping[str, str]) -> int | None:
    """The width terminal tables fit: ``$COLUMNS`` when set, else the terminal's when stdout is one, else
    None (piped: plain text at its natural width, nothing cut)."""
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return Console().size.width if sys.stdout.isatty() else None


def print_printout(printout: Printout) -> None:
    """Tables and text lines on stdout: colour on a terminal; text lines wrap only when a width was fitted."""
    printout.print_on(Console(highlight=False, width=printout.width, soft_wrap=not printout.wrap))


def stopped_once_stored(what: str, where: Path, force: bool) -> str:
    """What Ctrl-C says once a command's ``what`` (a sweep, a walk-forward) is stored in ``where`` (or while a stored
    one is read to be shown): where, and the command that shows it, this one less any --force."""
    without = " without --force" if force else ""
    return f"stopped (Ctrl-C); the {what} is stored in {where}: the same command{without} shows it"


@contextmanager
def user_errors(stopped: str | Callable[[], str] = "stopped (Ctrl-C)") -> Iterator[None]:
    """Run a command's work: a :class:`UserError` becomes ``error: <one line>`` on stderr and exit code 2;
    Ctrl-C, also when a compiled call turned it into another error, prints ``stopped`` (or what it returns,
    when the message depends on how far the command got) and exits with 130."""
    try:
        yield
    except UserError as err:
        err_console().print(f"error: {err.one_line()}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT:  # any other system error keeps its traceback: it may be a bug
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        err_console().print(f"error: {where}{exc.strerror or exc} ({_ENVIRONMENT[exc.errno]})", markup=False)
        raise typer.Exit(2) from None
    except (KeyboardInterrupt, Exception) as exc:
        if not _interrupted(exc):
            raise
        err_console().print(stopped if isinstance(stopped, str) else stopped(), markup=False)
        raise typer.Exit(130) from None


#: System errors that are the machine's state, not Seesaw's: one line, with what to do.
_ENVIRONMENT = {
    errno.EACCES: "give your user access to it, or choose another directory",
    errno.EPERM: "give your user access to it, or choose another directory",
    errno.ENOSPC: "free some space on that disk; what was written whole is kept",
    errno.EDQUOT: "your disk quota is used up; free some space",
    errno.EROFS: "the file system is read-only; choose another directory",
}


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C's KeyboardInterrupt, or what another library reports one as: the
    ``SystemError`` numba's dispatcher raises (its context the interrupt), the ``ImportError`` of an extension
    module interrupted while it initialised (its cause), and DuckDB's ``RuntimeError('Query interrupted')``
    (which keeps neither; DuckDB's own ``InterruptException`` too).  Any other error, even one raised while a
    Ctrl-C was being handled (a disk full while the finished chunks are saved), is itself and keeps its
    traceback."""
    if isinstance(exc, KeyboardInterrupt) or _duckdb_interrupted(exc):
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while isinstance(current, SystemError | ImportError) and id(current) not in seen:
        seen.add(id(current))
        # an ImportError raised *while* a Ctrl-C was handled (its context, not its cause) is an error of its own
        current = current.__cause__ if isinstance(current, ImportError) else current.__cause__ or current.__context__
        if isinstance(current, KeyboardInterrupt):
            return True
    return False


def _duckdb_interrupted(exc: BaseException) -> bool:
    """DuckDB's report of a Ctrl-C during a statement (told apart by type and text: importing duckdb here would
    cost every command its import)."""
    kind = type(exc)
    if kind.__name__ == "InterruptException" and kind.__module__.lstrip("_").startswith("duckdb"):
        return True
    return kind is RuntimeError and str(exc) == "Query interrupted"


#: What a terminal shows when numba starts compiling a kernel its cache does not hold yet.
COMPILING = "compiling Seesaw's numerical kernels, once after installing or upgrading (up to a minute)"


@contextmanager
def compile_notice(console: Console | None = None) -> Iterator[None]:
    """While a command computes: :data:`COMPILING` on stderr, once, if numba starts compiling (on a cache
    miss only: numba's ``numba:compile`` event), so the first run's silent minute is explained.  Only on a
    terminal, like a progress bar: a script's or a test's stderr stays as it was."""
    out = console or err_console()
    if not out.is_terminal:
        yield
        return
    from numba.core import event

    listener = first_compile_listener(lambda: out.print(COMPILING, markup=False, style="dim"))
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)


def print_written(files: list[Path], console: Console | None = None) -> None:
    """``wrote FILE`` for each file a command wrote."""
    for f in files:
        if console is None:
            print(f"wrote {f}")
        else:
            console.print(f"wrote {f}", markup=False)

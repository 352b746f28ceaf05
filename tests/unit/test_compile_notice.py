"""engine.cli.options.compile_notice: one line on a terminal when numba compiles, nothing otherwise; and
user_errors: Ctrl-C, even wrapped by a compiled call, is a clean stop."""

from __future__ import annotations

import io
import os
import signal
import threading

import numba
import pytest
import typer
from rich.console import Console

from engine.cli.options import COMPILING, compile_notice, user_errors


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=200, color_system=None), buffer


def _fresh_kernel(offset: float):  # a new dispatcher each call, never cached: calling it compiles
    @numba.njit(cache=False)
    def kernel(x: float) -> float:
        return x + offset

    return kernel


def test_a_compile_on_a_terminal_prints_the_notice_once() -> None:
    console, buffer = _console(terminal=True)
    with compile_notice(console):
        assert _fresh_kernel(1.0)(1.0) == 2.0
        assert _fresh_kernel(2.0)(1.0) == 3.0  # a second compile: no second line
    assert buffer.getvalue() == COMPILING + "\n"
    _fresh_kernel(3.0)(1.0)  # after the command: the listener is gone
    assert buffer.getvalue() == COMPILING + "\n"


def test_no_notice_without_a_compile_or_off_a_terminal() -> None:
    compiled = _fresh_kernel(1.0)
    compiled(1.0)
    console, buffer = _console(terminal=True)
    with compile_notice(console):
        compiled(2.0)  # already compiled for floats: numba loads nothing, compiles nothing
    assert buffer.getvalue() == ""
    console, buffer = _console(terminal=False)
    with compile_notice(console):
        _fresh_kernel(4.0)(1.0)
    assert buffer.getvalue() == ""


def _wrapped_interrupt() -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:  # as numba's dispatcher reports an interrupt inside it
        raise SystemError("CPUDispatcher(<function kernel>) returned a result with an exception set") from None


def test_ctrl_c_wrapped_by_a_compiled_call_stops_with_130(capsys: pytest.CaptureFixture[str]) -> None:
    for interrupt in (_wrapped_interrupt, lambda: (_ for _ in ()).throw(KeyboardInterrupt)):
        with pytest.raises(typer.Exit) as stop, user_errors("stopped: try --resume"):
            interrupt()
        assert stop.value.exit_code == 130
        assert capsys.readouterr().err.strip() == "stopped: try --resume"
    with pytest.raises(SystemError), user_errors():  # an error of its own stays a bug, with its traceback
        raise SystemError("a bug")
    with pytest.raises(OSError, match="Input/output error"), user_errors():  # failing while stopping: that failure
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise OSError(5, "Input/output error") from None
    with pytest.raises(typer.Exit) as full, user_errors():  # a full disk while stopping: one line, not a stop
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise OSError(28, "No space left on device") from None
    assert full.value.exit_code == 2 and "No space left on device (free some space" in capsys.readouterr().err


def _import_interrupted() -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:  # as an extension module reports a Ctrl-C while it initialises
        raise ImportError("initialization failed") from exc


def _duckdb_interrupt() -> None:
    import duckdb

    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    duckdb.connect().execute("SELECT count(*) FROM range(100000000000) t(a) WHERE a % 7 = 3").fetchall()


def test_ctrl_c_reported_as_an_import_or_a_duckdb_error_stops_with_130(capsys: pytest.CaptureFixture[str]) -> None:
    """A Ctrl-C in a lazy import, or while the catalog is written, printed a traceback and exited with 1."""
    for interrupt in (_import_interrupted, _duckdb_interrupt):
        with pytest.raises(typer.Exit) as stop, user_errors():
            interrupt()
        assert stop.value.exit_code == 130
        assert capsys.readouterr().err.strip() == "stopped (Ctrl-C)"
    with pytest.raises(ImportError), user_errors():  # a missing module is not a stop
        raise ImportError("No module named 'nothing'")
    with pytest.raises(ImportError), user_errors():  # nor one missing while a Ctrl-C is handled: its own error
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ImportError("No module named 'nothing'")  # noqa: B904  (as a handler's own import fails)
    with pytest.raises(RuntimeError), user_errors():
        raise RuntimeError("Query failed")

"""The root of Seesaw's exception tree, and the errors of signals that come from other packages.

:class:`SeesawError` and :class:`UserError` live here, below the engine, because a signal
package's mistakes are raised in ``strategies/`` (which never imports the engine) and must
still reach the user as one line and exit code 2; :mod:`engine.errors` re-exports both and
adds the engine's own user errors.  :class:`SignalError` names the signal and the package
(distribution) it comes from: :class:`PluginError` when a package's entry point cannot be
loaded, :class:`SignalContractError` when its signal breaks the contract on real data.
"""

from __future__ import annotations

__all__ = [
    "MAX_MESSAGE_CHARS",
    "PluginError",
    "SeesawError",
    "SignalContractError",
    "SignalError",
    "UserError",
    "printable",
]

#: Longest message part of :meth:`UserError.one_line`; longer ones keep their start and end.
MAX_MESSAGE_CHARS = 500


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped as in ``repr`` (``\\n``, ``\\x1b``, ``\\u2028``).

    Config keys and values reach error messages; a newline or an ANSI escape in them must not
    break the one-line format or drive the terminal.

    >>> printable("a\\nb\\x1b[2J")
    'a\\\\nb\\\\x1b[2J'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class SeesawError(Exception):
    """Root of every exception Seesaw raises on purpose."""


class UserError(SeesawError):
    """A mistake in the user's input; shown as one line, exit code 2.

    Parameters
    ----------
    message:
        What is wrong, phrased for the user (no file or path prefix).
    file:
        The file the mistake is in, if any.
    path:
        The YAML path inside ``file`` (``rules[1].when``), if any.
    expected, got:
        Optional structured detail for programs and tests.
    line:
        1-based line number in ``file`` where ``path`` starts, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        path: str | None = None,
        expected: str | None = None,
        got: object = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.path = path
        self.expected = expected
        self.got = got
        self.line = line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file: path: message (line N)`` with the parts that are known.

        Non-printable characters are escaped (:func:`printable`) and a message longer than
        :data:`MAX_MESSAGE_CHARS` is shortened in the middle, so the result is one short line.
        """
        message = printable(self.message)
        if len(message) > MAX_MESSAGE_CHARS:
            message = f"{message[: MAX_MESSAGE_CHARS - 100]} ... {message[-90:]}"
        parts = [printable(p) for p in (self.file, self.path) if p]
        text = ": ".join([*parts, message])
        if self.line is not None:
            text += f" (line {self.line})"
        return text

    def located(self, *, file: str | None = None, path: str | None = None, line: int | None = None):
        """Return a copy of this error with a file, YAML path or line filled in."""
        err = type(self)(
            self.message,
            file=file if self.file is None else self.file,
            path=path if self.path is None else self.path,
            expected=self.expected,
            got=self.got,
            line=line if self.line is None else self.line,
        )
        return err


class SignalError(UserError):
    """A signal from another package cannot be used; ``signal`` and ``distribution`` say which.

    ``signal`` is the signal's name (None when the package's entry point did not load far
    enough to register one); ``distribution`` is the installed package's name.
    """

    def __init__(
        self, message: str, *, signal: str | None = None, distribution: str | None = None, **where: object
    ) -> None:
        self.signal = signal
        self.distribution = distribution
        super().__init__(message, **where)  # type: ignore[arg-type]

    def located(self, *, file: str | None = None, path: str | None = None, line: int | None = None):
        """Return a copy of this error with a file, YAML path or line filled in (signal and package kept)."""
        err = super().located(file=file, path=path, line=line)
        err.signal, err.distribution = self.signal, self.distribution
        return err


class PluginError(SignalError):
    """An entry point of group ``seesaw.signals`` fails to import, registers a name already
    taken, or registers no signal; ``got`` is the entry point (``name = module:attr``)."""

    def located(self, *, file: str | None = None, path: str | None = None, line: int | None = None):
        """A copy naming the config that looked the signal up; a line only with a YAML path (the
        package's mistake is at no line of the config)."""
        return super().located(file=file, path=path, line=line if (path or self.path) else None)


class SignalContractError(SignalError):
    """A signal from another package breaks the signal contract on the data it is used on
    (wrong output, warm-up, modified inputs, or look-ahead); ``got`` is what was found."""

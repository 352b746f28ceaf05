"""The exception tree.

``SeesawError`` is the root.  ``UserError`` and its subclasses describe a
mistake the user can fix (a bad config, missing data, an unreadable file): the
CLI prints them as one line and exits with code 2.  Anything else is a bug and
is allowed to show a traceback.

Every user error carries data, not only prose: the file, the YAML path, what
was expected and what was found, so tests can assert on fields rather than on
wording.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "ExpressionError",
    "SeesawError",
    "StoreError",
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


class ConfigError(UserError):
    """A config file is unreadable, or breaks the schema or a cross-field rule."""


class ExpressionError(UserError):
    """A ``when:`` expression is not in the whitelist grammar or names unknown things."""


class DataError(UserError):
    """Price data is missing, unreachable or fails validation."""


class StoreError(UserError):
    """The results directory cannot be written or read."""

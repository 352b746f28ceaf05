"""``seesaw server``: a warm process that starts Seesaw's commands in a fraction of a second.

:mod:`engine.server.protocol` is how a command and the server talk (the client side lives in
:mod:`engine.launch`, the ``seesaw`` entry point); :mod:`engine.server.process` is the server: it
imports everything once and forks a process for each command.
"""

__all__: list[str] = []

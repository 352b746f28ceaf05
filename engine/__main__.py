"""``python -m engine`` is the ``seesaw`` command."""

from engine.cli import main

main()

"""``python -m engine`` is the ``seesaw`` command."""

from engine.launch import main

main()

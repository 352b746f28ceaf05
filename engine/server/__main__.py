"""``python -m engine.server SOCKET IDLE_SECONDS``: the server process that ``seesaw server start`` starts."""

import os
import sys
from pathlib import Path

from engine.server.process import serve

if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)  # the server's own directory; each command gets its client's sys.path
serve(Path(sys.argv[1]), float(sys.argv[2]), "engine.cli:main")

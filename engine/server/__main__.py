"""``python -m engine.server SOCKET IDLE_SECONDS SEESAW_DIR``: the server process ``seesaw server start`` starts.

It runs in the directory that holds ``SEESAW_DIR`` (so that directory comes first on ``sys.path``) and
refuses to serve a Seesaw imported from anywhere else.
"""

import sys
from pathlib import Path

from engine.server.protocol import seesaw_dir

if str(seesaw_dir()) != sys.argv[3]:
    sys.exit(f"refused to start: this Python imports Seesaw from {seesaw_dir()}, not {sys.argv[3]}")

from engine.server.process import serve  # only for the Seesaw it was asked to serve

serve(Path(sys.argv[1]), float(sys.argv[2]), "engine.cli:main")

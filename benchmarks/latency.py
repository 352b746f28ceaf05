"""What a user waits for: each command as a whole process, against the floor every command pays.

Each command runs ``--runs`` times as a fresh ``python -m engine …`` process (real CSV data from
``SEESAW_DATA_DIR`` or ../shared/data, results into a temporary directory, the first run of each
discarded as a warm-up of the disk cache and numba's on-disk cache); the table shows min, median
and max wall time.  Two baselines are measured in the same run the same way:

* ``python``: ``python -c pass``, the interpreter alone;
* ``import``: ``python -c "import engine.cli"``, the command line loaded (what ``--help`` costs).

``command − import`` is then what the command itself adds: reading data, computing, importing what
only it needs (vectorbt, arch), writing.  ``in-process`` is the same command's own time: one more
process imports the command line, runs the command once as a warm-up and then ``--runs`` times,
each timed from the call to its return (every import done, numba's kernels loaded, output
discarded); ``ratio`` is the median wall time over the median in-process time, what starting a
process costs the user on top of the command's work.  ``server`` is the median wall time of the
same command forked by a ``seesaw server`` started for the benchmark (``--no-server`` leaves it out):
what a user who started one waits for.  The benchmark checks that the server did serve every one of
those runs (its count of commands served).

    python benchmarks/latency.py [--runs 5] [--only validate,run] [--no-server]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = (Path(__file__).resolve().parent / "grid_5061.yaml").read_text(encoding="utf-8")


def commands(data: Path, results: Path) -> dict[str, list[str]]:
    """The commands timed, by label (the README's and each command family's everyday use)."""
    csv = ["--source", "csv", "--data-dir", str(data), "--results-dir", str(results)]
    cfg = str(REPO / "configs" / "corr_breakdown.yaml")
    episodes = str(REPO / "configs" / "episodes" / "hsi_spx_divergence.yaml")
    walk = str(REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml")
    grid = results / "grid_5061.yaml"
    grid.write_text(CONFIG, encoding="utf-8")
    shipped = sorted(str(p) for p in (REPO / "configs").glob("*.yaml"))
    return {
        "validate": ["validate", cfg],
        "signals": ["signals"],
        "run (1 config)": ["run", cfg, *csv, "--force"],
        "run (reused)": ["run", cfg, *csv],
        "run (all)": ["run", *shipped, *csv, "--force"],
        "today (1 config)": ["today", cfg, *csv[:4], "--format", "json"],
        "audit (1 config)": ["audit", cfg, *csv[:4]],
        "episodes": ["episodes", episodes, "--signal", "corr", "--low", *csv, "--format", "json"],
        "compare (all)": ["compare", *shipped, *csv],
        "sweep (5,061)": ["sweep", str(grid), *csv, "--force", "--format", "csv"],
        "walkforward (392)": ["walkforward", walk, *csv, "--force", "--format", "csv"],
        "walkforward (reused)": ["walkforward", walk, *csv, "--format", "csv"],
    }


def wall(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return took


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    wall(argv, env)  # warm-up, not counted
    return [wall(argv, env) for _ in range(runs)]


#: A command run in one process, once as a warm-up, then timed ``runs`` times (sys.argv: -c, runs, argv...).
IN_PROCESS = """
import contextlib, io, sys, time
from engine.cli import main
runs, argv = int(sys.argv[1]), sys.argv[2:]

def once():
    sys.argv = ["seesaw", *argv]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as stop:
        if stop.code:
            raise
    return time.perf_counter()

once()
for _ in range(runs):
    start = time.perf_counter()
    print("seesaw-seconds", once() - start, file=sys.stderr)
"""


def in_process(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    """The command's own seconds, ``runs`` times in one process after a warm-up call (:data:`IN_PROCESS`)."""
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(runs), *argv], env=env, cwd=REPO, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} in one process failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    marked = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("seesaw-seconds ")]
    return [float(t) for t in marked]  # the command's own lines on stderr (notes, warnings) left out


def served(env: dict[str, str]) -> int:
    """How many commands the benchmark's server has served."""
    argv = [sys.executable, "-m", "engine", "server", "status", "--json"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the benchmark's server is not running: {done.stdout.strip()} {done.stderr.strip()}")
    return int(json.loads(done.stdout)["commands"])


def through_server(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    """The command forked by the server, ``runs`` times after a warm-up; every run checked to be served."""
    before = served(env)
    seconds = timed(argv, env, runs)
    if served(env) != before + runs + 1:
        raise SystemExit(f"{' '.join(argv)}: the server did not serve every run (a refused command runs on its own)")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated labels (a prefix is enough)")
    parser.add_argument("--no-server", action="store_true", help="leave out the `server` column")
    args = parser.parse_args()
    data = Path(os.environ.get("SEESAW_DATA_DIR") or REPO.parent / "shared" / "data")
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", "SEESAW_SERVER": "off"}
    py = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        todo = commands(data, Path(tmp))
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        todo = {k: v for k, v in todo.items() if not wanted or any(k.startswith(w) for w in wanted)}
        print(f"data: {data}; {args.runs} runs each after one warm-up; wall seconds")
        rows = {"python": timed([*py, "-c", "pass"], env, args.runs)}
        rows["import"] = timed([*py, "-c", "import engine.cli"], env, args.runs)
        own, warm = {}, {}
        for label, argv in todo.items():
            rows[label] = timed([*py, "-m", "engine", *argv], env, args.runs)
            own[label] = statistics.median(in_process(argv, env, args.runs))
        if not args.no_server:
            server_env = {**env, "SEESAW_SERVER": "on", "SEESAW_SERVER_DIR": str(Path(tmp) / "server")}
            wall([*py, "-m", "engine", "server", "start", "--idle-minutes", "60"], server_env)
            try:
                for label, argv in todo.items():
                    warm[label] = statistics.median(through_server([*py, "-m", "engine", *argv], server_env, args.runs))
            finally:
                subprocess.run([*py, "-m", "engine", "server", "stop"], env=server_env, capture_output=True)
    print_table(rows, own, warm)
    return 0


def print_table(rows: dict[str, list[float]], own: dict[str, float], warm: dict[str, float]) -> None:
    floor = statistics.median(rows["import"])
    server = f"{'server':>8}" if warm else ""
    print(f"{'command':<20}{'min':>8}{'median':>8}{'max':>8}{'− import':>10}{'in-process':>12}{'ratio':>7}{server}")
    for label, t in rows.items():
        extra = ""
        if label in own:
            median = statistics.median(t)
            extra = f"{median - floor:>10.2f}{own[label]:>12.2f}{median / own[label]:>7.1f}"
            extra += f"{warm[label]:>8.2f}" if label in warm else ""
        print(f"{label:<20}{min(t):>8.2f}{statistics.median(t):>8.2f}{max(t):>8.2f}{extra}")


if __name__ == "__main__":
    raise SystemExit(main())

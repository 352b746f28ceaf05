"""Commands import only what they use: checking configs never loads the numeric stack.

``seesaw validate``, ``schema``, ``signals`` and ``--help`` answer in about half a second because
they import neither pandas nor the simulator (vectorbt, numba) nor the statistics (scipy, arch)
nor the store and the charts; each of those costs from 0.2 to 4 seconds.  Each case runs in a fresh
interpreter and lists the heavy packages it found in ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = (
    "pandas",
    "pyarrow",
    "vectorbt",
    "numba",
    "scipy",
    "scipy.stats",
    "scipy.special",
    "arch",
    "duckdb",
    "plotly",
    "matplotlib",
    "quantstats",
    "ipywidgets",
    "IPython",
    "exchange_calendars",
)

PROBE = """
import json, sys
from engine.cli import main
try:
    main()  # as the seesaw script runs it, with sys.argv
except SystemExit as stop:
    code = stop.code
heavy = sorted(name for name in {heavy!r} if sys.modules.get(name) is not None)
print(json.dumps({{"code": code, "heavy": heavy}}), file=sys.stderr)
"""


def _imports_after(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,  # a first run compiles the numba kernels
    )
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--help",), id="help"),
        pytest.param(("validate", "configs"), id="validate-shipped"),
        pytest.param(("validate", "configs/corr_breakdown.yaml"), id="validate-one"),
        pytest.param(("schema",), id="schema"),
        pytest.param(("signals",), id="signals"),
    ],
)
def test_checking_configs_loads_no_numeric_stack(args: tuple[str, ...]) -> None:
    found = _imports_after(*args)
    assert found["code"] in (0, None)
    assert found["heavy"] == []


def test_a_refused_config_loads_no_numeric_stack_either(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "configs" / "corr_breakdown.yaml").read_text().replace("window: ", "window: -", 1))
    found = _imports_after("validate", str(bad))
    assert found["code"] == 2
    assert found["heavy"] == []


def test_episodes_draws_its_bootstrap_bands_without_arch_or_the_simulator(tmp_path: Path) -> None:
    """The bands' circular-block resamples are arch's (tests/test_episodes_reference.py), drawn without arch."""
    config = "configs/episodes/hsi_spx_divergence.yaml"
    found = _imports_after(
        "episodes", config, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path)
    )
    assert found["code"] in (0, None)
    assert not {"arch", "vectorbt", "scipy.stats"} & set(found["heavy"])


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The probe itself works: a command that simulates does load pandas and vectorbt."""
    found = _imports_after("run", "configs/buy_hold_us.yaml", "--source", "synthetic", "--results-dir", str(tmp_path))
    assert found["code"] in (0, None)
    assert {"pandas", "vectorbt", "numba"} <= set(found["heavy"])


def test_a_command_that_simulates_leaves_out_vectorbts_quantstats_adapter_and_widgets(tmp_path: Path) -> None:
    """vectorbt imports quantstats (matplotlib, seaborn, yfinance) when it is installed, for an adapter
    no command uses, and plotly's notebook widget (ipywidgets, IPython); the command line keeps them out
    (0.6-0.9 s and 0.3-0.6 s)."""
    found = _imports_after("run", "configs/buy_hold_us.yaml", "--source", "synthetic", "--results-dir", str(tmp_path))
    assert found["code"] in (0, None)
    assert "vectorbt" in found["heavy"]
    assert not {"quantstats", "matplotlib", "ipywidgets", "IPython"} & set(found["heavy"])


def test_a_sweep_draws_its_heatmap_without_widgets(tmp_path: Path) -> None:
    """plotly's figures, not its widgets: a sweep simulates and writes its heatmap with ipywidgets refused to
    vectorbt."""
    html = tmp_path / "heat.html"
    args = ("sweep", "configs/sweeps/corr_breakdown_sweep.yaml", "--source", "synthetic", "--results-dir")
    found = _imports_after(*args, str(tmp_path), "--heatmap", "corr_cut,mom_window", "--output", str(html))
    assert found["code"] in (0, None)
    assert {"vectorbt", "plotly"} <= set(found["heavy"])
    assert not {"ipywidgets", "IPython"} & set(found["heavy"])
    assert '"type":"heatmap"' in html.read_text(encoding="utf-8").replace(" ", "")


def test_quantstats_and_ipywidgets_stay_importable_by_anything_but_vectorbt(tmp_path: Path) -> None:
    """Only vectorbt's own imports of quantstats and ipywidgets are refused: after a command, the process
    (a signal plugin, say) imports them as usual."""
    code = (
        "import sys\n"
        "from engine.cli import main\n"
        "sys.argv = ['seesaw', 'run', 'configs/buy_hold_us.yaml', '--source', 'synthetic',\n"
        "            '--results-dir', sys.argv[1]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'vectorbt' in sys.modules and sys.modules.get('quantstats') is None\n"
        "assert sys.modules.get('ipywidgets') is None\n"
        "import quantstats, ipywidgets\n"
        "print('imported', quantstats.__name__, ipywidgets.__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "imported quantstats ipywidgets"


def test_a_run_reused_from_the_store_loads_no_data_and_no_simulator(tmp_path: Path) -> None:
    """Its data is unchanged (the run's input_key), so nothing is loaded nor simulated: no vectorbt, no
    scipy statistics (that the data is not even read is tests/test_reuse_without_loading.py's)."""
    args = ("run", "configs/corr_breakdown.yaml", "--source", "synthetic", "--results-dir", str(tmp_path))
    first = _imports_after(*args)
    assert first["code"] in (0, None)
    assert "vectorbt" in first["heavy"]
    again = _imports_after(*args)
    assert again["code"] in (0, None)
    assert not {"vectorbt", "scipy.stats", "scipy.special", "arch"} & set(again["heavy"])


def _imported_in_worker() -> dict[str, bool]:
    import vectorbt  # noqa: F401 - what a chunk's first task imports

    return {name: sys.modules.get(name) is not None for name in ("vectorbt", "quantstats", "ipywidgets")}


def test_a_sweeps_local_cluster_workers_leave_out_vectorbts_unused_imports() -> None:
    """The workers of the LocalCluster ``--cluster local`` starts get the command's finder (about 1 s and 75 MB
    each); a plain interpreter does import both, so the test can tell."""
    from distributed import Client, LocalCluster

    from engine.jobs.chunk_workers import _hiding_plugin

    probe = "import sys, vectorbt; print(sorted(n for n in ('quantstats', 'ipywidgets') if n in sys.modules))"
    plain = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True)
    assert plain.stdout.strip() == "['ipywidgets', 'quantstats']"
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(_hiding_plugin())
        found = client.submit(_imported_in_worker, pure=False).result(timeout=300)
    assert found == {"vectorbt": True, "quantstats": False, "ipywidgets": False}


def test_a_command_collects_garbage_rarely_and_not_at_exit() -> None:
    """main() raises the collector's thresholds and freezes every object once the command returns, so
    Python's collection at exit skips them (0.75-0.85 s of a ``seesaw run``); a plain import changes nothing."""
    code = (
        "import gc, sys\n"
        "import engine.cli\n"
        "before = gc.get_threshold()\n"
        "sys.argv = ['seesaw', 'validate', 'configs/corr_breakdown.yaml']\n"
        "try:\n"
        "    engine.cli.main()\n"
        "except SystemExit as stop:\n"
        "    print(stop.code, before == (700, 10, 10), gc.get_threshold() == engine.cli.GC_THRESHOLDS,\n"
        "          gc.get_freeze_count() > 10_000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.stdout.split()[-4:] == ["0", "True", "True", "True"], proc.stdout + proc.stderr[-2000:]

"""The documentation describes what the code does: config fields, signals, JSON keys, and the CI command.

README.md is the short entry point; the reference lives in ``docs/``. ``docs/config.md`` is generated
from the config models (:func:`engine.config.reference.config_reference`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from engine.config import models
from engine.config.params import SWEEPABLE_PATHS
from engine.config.reference import config_reference
from engine.render.text import COMPARE_COLUMNS, JSON_KEYS
from engine.store.readonly import RUN_TABLES
from strategies import REGISTRY
from tests.conftest import REPO

README_PATH = REPO / "README.md"
DOCS = REPO / "docs"
README = README_PATH.read_text(encoding="utf-8")
CONFIG_PAGE = (DOCS / "config.md").read_text(encoding="utf-8")
METHODOLOGY = (DOCS / "methodology.md").read_text(encoding="utf-8")
RUNS_PAGE = (DOCS / "runs.md").read_text(encoding="utf-8")
SWEEPS_PAGE = (DOCS / "sweeps.md").read_text(encoding="utf-8")
COMPARE_PAGE = (DOCS / "compare.md").read_text(encoding="utf-8")
TEST_COMMAND = "pip install -e '.[dev]' && python -m pytest"
RUN_COMMAND = "pip install -e . && seesaw compare configs/*.yaml --source synthetic"
#: The heading that follows the two commands in README.md.
AFTER_TWO_COMMANDS = "## A config and the table it prints"
README_MAX_LINES = 200
REGENERATE = "python -m engine.config.reference > docs/config.md"

#: Every page a reader can reach: the README and each Markdown page under docs/.
PAGES = [README_PATH, *sorted(DOCS.glob("*.md"))]
#: Wording that narrates work on the project, or points at one machine, instead of describing the product.
DIARY = (
    "/work/",
    "../shared",
    "this session",
    "previous engine",
    "before this change",
    "after this change",
    "we changed",
    "we added",
    "used to be",
    "no longer",
)


def _fields() -> list[tuple[str, str]]:
    out = []
    for name in models.__all__:
        model = getattr(models, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            out += [(name, field) for field in model.model_fields]
    return out


def _page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def _prose(path: Path) -> str:
    """A page without its code blocks (where ``](`` and ``#`` are code, not links or headings)."""
    return re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)


def _links() -> list[tuple[str, str]]:
    """(page, target) for every relative Markdown link or image of every page, ``#anchor`` included."""
    out = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
            if not re.match(r"[a-z]+:", target):
                out.append((_page_id(page), target))
    return out


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.*)$", _prose(path), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize(("model", "field"), _fields())
def test_every_config_field_is_documented(model: str, field: str) -> None:
    assert f"`{field}`" in CONFIG_PAGE, f"{model}.{field} is not documented in docs/config.md"


@pytest.mark.parametrize(("model", "field"), _fields())
def test_every_config_field_has_a_description(model: str, field: str) -> None:
    description = getattr(models, model).model_fields[field].description
    assert description and description.strip(), f"{model}.{field} needs description= in engine/config/models.py"


def test_config_page_is_generated_from_the_models() -> None:
    assert config_reference() == CONFIG_PAGE, f"docs/config.md is out of date; regenerate it: {REGENERATE}"


def test_config_page_says_how_to_regenerate_it() -> None:
    assert REGENERATE in CONFIG_PAGE[:600]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_signal_is_documented(name: str) -> None:
    assert f"`{name}`" in CONFIG_PAGE, f"signal {name} is not documented in docs/config.md"


@pytest.mark.parametrize("path", SWEEPABLE_PATHS)
def test_every_sweepable_path_is_documented(path: str) -> None:
    grid = SWEEPS_PAGE[SWEEPS_PAGE.index("## The grid") :]
    assert f"`{path}`" in grid[: grid.index("\n## ")], f"sweep key {path} is not listed in docs/sweeps.md"


@pytest.mark.parametrize("key", ["kind", "currency", *(k for k, *_ in COMPARE_COLUMNS if not k.startswith("beta_"))])
def test_every_compare_column_key_is_listed(key: str) -> None:
    listed = COMPARE_PAGE[COMPARE_PAGE.index("refused with the list of valid ones") :]
    listed = listed[: listed.index("`, the regime columns")]
    assert re.search(rf"\b{key}\b", listed), f"--columns key {key} is not listed in docs/compare.md"


@pytest.mark.parametrize("page", ["guarantees.md", "store.md"])
@pytest.mark.parametrize("view", [*RUN_TABLES, "sweep_combos"])
def test_every_catalog_view_is_listed(page: str, view: str) -> None:
    text = " ".join((DOCS / page).read_text(encoding="utf-8").split())
    assert f"`{view}`" in text, f"the catalog's view {view} is not listed in docs/{page}"


@pytest.mark.parametrize("key", JSON_KEYS)
def test_every_json_key_is_documented(key: str) -> None:
    assert re.search(rf"\b{key}\b", RUNS_PAGE), f"JSON key {key} is not documented in docs/runs.md"


@pytest.mark.parametrize(
    "metric", ["cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar", "turnover", "fx_return"]
)
def test_every_headline_metric_has_its_formula(metric: str) -> None:
    section = METHODOLOGY[METHODOLOGY.index("## How the numbers are computed") :]
    words = {"cagr": "CAGR", "ann_vol": "volatility", "max_drawdown": "Max drawdown"}
    assert re.search(rf"\b{re.escape(words.get(metric, metric))}\b", section, flags=re.IGNORECASE), metric


def test_readme_gives_the_two_commands_near_the_top() -> None:
    head = README[: README.index(AFTER_TWO_COMMANDS)]
    assert RUN_COMMAND in head
    assert TEST_COMMAND in head


def test_readme_is_short() -> None:
    lines = len(README.splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_readme_indexes_every_docs_page() -> None:
    for page in sorted(DOCS.glob("*.md")):
        assert f"](docs/{page.name})" in README, f"README.md does not link docs/{page.name}"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == TEST_COMMAND


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_no_unfilled_placeholders(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "MEASURED_" not in text
    assert not re.search(r"\bTODO\b|\bTBD\b|\bXXX\b", text)


@pytest.mark.parametrize(("page", "target"), _links(), ids=lambda v: str(v))
def test_relative_links_point_to_existing_files(page: str, target: str) -> None:
    file, _, anchor = target.partition("#")
    dest = (REPO / page).parent / file if file else REPO / page
    assert dest.exists(), f"{page} links to {target}, which does not exist"
    if anchor:
        assert anchor in _anchors(dest), f"{page} links to {target}, but {file or page} has no such heading"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_docs_describe_the_product_not_work_on_it(page: Path) -> None:
    text = page.read_text(encoding="utf-8").lower()
    found = [phrase for phrase in DIARY if phrase in text]
    assert not found, f"{_page_id(page)} contains {found}: describe the product, not work on it or one machine"


@pytest.mark.realdata
def test_the_readme_index_moves_are_those_of_the_closes(data_dir: Path) -> None:
    """The README's motivating figures, recomputed from the indices' closes: each changes with its sentence."""
    import pandas as pd

    def move(file: str, start: str, end: str) -> float:
        close = pd.read_csv(data_dir / file, index_col="Date", parse_dates=True)["Close"].dropna()
        return float(close[:end].iloc[-1] / close[:start].iloc[-1] - 1.0)

    text = " ".join(README.split())
    hsi, spx = move("HSI.csv", "2025-01-17", "2025-03-11"), move("GSPC.csv", "2025-01-17", "2025-03-11")
    assert f"the Hang Seng rose {hsi:.1%} while the S&P 500 fell {-spx:.1%}" in text
    hsi = move("HSI.csv", "2025-01-20", "2025-03-11")  # Hong Kong closed on inauguration day before the ceremony
    assert f"({hsi:.1%} from Hong Kong's close on inauguration day)" in text
    spx, hsi = move("GSPC.csv", "2017-12-29", "2024-12-31"), move("HSI.csv", "2017-12-29", "2024-12-31")
    assert f"the S&P 500 rose {spx:.0%} while the Hang Seng fell {-hsi:.0%}" in text

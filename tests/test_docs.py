"""The docs site (mkdocs.yml, docs/): its strict build passes with no warning, its API page is
generated from the docstrings, it includes the README's tour and tables, and a page viewed
offline fetches nothing from the network."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
pytest.importorskip("mkdocs", reason="the [docs] extra")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    # The snippets' base path (the README) is relative to the working directory.
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout, result.stderr
    return site


def test_the_strict_build_passes_with_every_page_in_the_nav(site):
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    assert pages and pages == {p.stem for p in site.glob("*.html")} - {"404"}


def test_the_api_page_is_generated_from_the_docstrings(site):
    from edgeseq import api, errors
    from edgeseq.checks import parity

    page = (site / "api.html").read_text()
    for documented in (errors.CheckFailed, errors.InputError, parity.error_stats, api.export, api.Export):
        first_line = documented.__doc__.strip().splitlines()[0]
        assert documented.__name__ in page
        assert first_line.split("(")[0].split(":")[0] in page, first_line


def test_the_home_page_holds_the_readme_tables_row_for_row(site):
    readme = (ROOT / "README.md").read_text()
    tables = readme.split("[start:tables]", 1)[1].split("[end:tables]", 1)[0]
    first_cells = [m.group(1).strip("`") for m in re.finditer(r"^\| ([^|]+?) \|", tables, re.M)]
    index = (site / "index.html").read_text()
    cells = set(re.findall(r"<td>(?:<code>)?([^<]*)", index))
    assert len(first_cells) > 12 and set(first_cells) - {"---", "architecture", "target"} <= cells
    python = " ".join((site / "python.html").read_text().split())
    assert "<code>examples/echo.ipynb</code> is the seed notebook" in python


def markdown_table_rows(text: str) -> int:
    rows, fenced = 0, False
    for line in text.splitlines():
        fenced ^= line.lstrip().startswith("```")
        rows += not fenced and line.lstrip().startswith("|") and not line.lstrip().startswith("|---")
    return rows


def test_every_table_row_of_the_pages_renders_as_a_table_row(site):
    """A blank line or a lost indent turns the rest of a table into one paragraph of pipes."""
    for page in (ROOT / "docs").glob("*.md"):
        if page.stem in ("index", "api"):  # the README's tables and mkdocstrings' own
            continue
        html = (site / f"{page.stem}.html").read_text()
        assert html.count("<tr>") == markdown_table_rows(page.read_text()), page.name


def test_code_in_tables_shows_no_escaping_backslash(site):
    commands = (site / "commands.html").read_text()
    assert "<code>--format onnx|tflite|ort|openvino</code>" in commands
    for page in site.glob("*.html"):
        assert "\\|" not in page.read_text(), page.name


def test_no_page_loads_an_asset_from_the_network(site):
    """Fonts, scripts, stylesheets and images come from the site itself: the docs are read on
    machines with no network. Links to other sites (<a href>) are fine."""
    external = re.compile(r"""(?:<(?:script|img|iframe|source)\b[^>]*\bsrc|<link\b[^>]*\bhref)=["']?(?:https?:)?//""")
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert not external.search(html), (page.name, external.search(html).group(0))
        # material's bundle fetches mermaid from unpkg.com when a page has a diagram
        assert 'class="mermaid"' not in html, page.name
    for css in site.rglob("*.css"):
        assert not re.search(r"""@import|url\(["']?(?:https?:)?//""", css.read_text()), css.name


def test_a_broken_anchor_fails_the_strict_build(tmp_path):
    """The validation settings are what keep a moved section from leaving a dead link."""
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    for name in ("edgeseq", "tools"):  # the API page's modules, the hook
        (tmp_path / name).symlink_to(ROOT / name)
    page = tmp_path / "docs" / "install.md"
    page.write_text(page.read_text() + "\nSee [the gate](export.md#no-such-section).\n")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-section" in result.stderr


def test_the_readme_links_every_page_and_every_link_resolves():
    """README is read on GitHub, where no strict build checks its links: each docs page is
    reachable from it, and each relative link names a file that exists."""
    readme = (ROOT / "README.md").read_text()
    targets = {t.split("#")[0] for t in re.findall(r"\]\(([^)]+)\)", readme) if "://" not in t}
    assert all((ROOT / t).exists() for t in targets), sorted(t for t in targets if not (ROOT / t).exists())
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} - {"docs/index.md"}
    assert pages <= targets, sorted(pages - targets)

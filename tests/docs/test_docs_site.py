"""The docs site: every page in both languages, in the nav, built offline with no warnings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BILINGUAL = {"cli.md", "canonical-model.md"}  # generated pages carrying both languages
MODULES = [
    "ingest",
    "metrics",
    "loop",
    "rca",
    "customers",
    "recommend",
    "experiments",
    "replenish",
    "listening",
    "funnels",
]


def _pages() -> set[str]:
    return {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}


def _nav(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [p for v in node.values() for p in _nav(v)]
    if isinstance(node, list):
        return [p for v in node for p in _nav(v)]
    return []


def _config() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)


def test_every_page_exists_in_zh_and_en_and_is_in_the_nav() -> None:
    pages = _pages()
    zh = {p for p in pages if not p.endswith(".en.md")}
    en = {p.removesuffix(".en.md") + ".md" for p in pages if p.endswith(".en.md")}
    assert en <= zh, f"English pages without a Chinese page: {sorted(en - zh)}"
    assert zh - BILINGUAL == en, f"pages without an English version: {sorted(zh - BILINGUAL - en)}"
    nav = _nav(_config()["nav"])
    assert sorted(nav) == sorted(zh), f"not in the nav: {sorted(zh - set(nav))}"
    translated = _config()["plugins"][1]["i18n"]["languages"][1]["nav_translations"]
    titles = [k for item in _config()["nav"] for k in _titles(item)]
    assert [t for t in titles if t not in translated] == []


def _titles(node: object) -> list[str]:
    if isinstance(node, dict):
        return [k for k, v in node.items()] + [t for v in node.values() for t in _titles(v)]
    if isinstance(node, list):
        return [t for v in node for t in _titles(v)]
    return []


def test_module_pages_give_method_limits_and_benchmark_from_results() -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    for module in MODULES:
        for suffix, heads in (
            (".md", ("## 方法", "## 局限", "## 基准")),
            (".en.md", ("## Method", "## Limits", "## Benchmark")),
        ):
            text = (DOCS / "modules" / f"{module}{suffix}").read_text(encoding="utf-8")
            for head in heads:
                assert head in text, f"modules/{module}{suffix}: no '{head}'"
            bench = re.search(r"`benchmarks/(\w+)\.py`", text)
            assert bench, f"modules/{module}{suffix} cites no benchmark script"
            assert f"## {bench.group(1)} (benchmarks/{bench.group(1)}.py)" in results


def test_site_builds_offline_with_no_warnings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_MKDOCS_2_WARNING": "1"},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNING" not in r.stderr
    for page in (
        "index.html",
        "first-hour/index.html",
        "en/first-hour/index.html",
        "reference/config/index.html",
        "en/reference/metrics/index.html",
    ):
        assert (site / page).is_file(), page
    assert "企业微信" in (site / "first-hour" / "index.html").read_text(encoding="utf-8")
    html = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    external = set(re.findall(r'(?:src|href)="(https?://[^"]+)"', html))
    assert external == set(), f"pages load from the network: {sorted(external)[:5]}"
    assert "fonts.googleapis" not in html

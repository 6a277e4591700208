"""The generated reference pages match their generators, and nothing user-facing is undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from luopan.cli.docs import pages
from luopan.model_docs import config_keys, config_markdown, undocumented
from luopan.model_docs_text import UNITS_EN

DOCS = Path(__file__).resolve().parents[2] / "docs"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return {page: write() for page, write in pages().items()}


def test_generated_pages_are_committed_and_in_sync(generated: dict[str, str]) -> None:
    assert len(generated) == 8
    for page, text in generated.items():
        path = DOCS / page
        assert path.is_file(), f"docs/{page} is missing: run `.venv/bin/luopan docs write`"
        assert path.read_text(encoding="utf-8") == text, (
            f"docs/{page} is stale: run `.venv/bin/luopan docs write`"
        )


def test_every_config_key_and_rule_value_has_zh_and_en_text() -> None:
    assert undocumented() == []


def test_config_reference_lists_every_key_in_both_languages() -> None:
    zh, en = config_markdown("zh"), config_markdown("en", rules=False)
    rules_zh, rules_en = config_markdown("zh", rules=True), config_markdown("en", rules=True)
    for file, path, _, _ in config_keys():
        for page in (rules_zh, rules_en) if file.startswith("rules") else (zh, en):
            assert f"| `{path}` |" in page, (file, path)
    # the languages really differ: Chinese text on the zh page, none on the en page's prose
    assert CJK.search(zh) and "unique source name" in en and "unique source name" not in zh
    for kind in ("threshold", "change", "target", "benchmark", "freshness"):
        assert f"`{kind}`: " in rules_zh and f"`{kind}`: " in rules_en


def test_every_metric_has_labels_units_and_two_sided_descriptions() -> None:
    from luopan.metrics.catalog import default_catalog

    catalog = default_catalog()
    assert len(catalog.metrics) >= 28
    for name, m in catalog.metrics.items():
        assert m.meta.label.zh.strip() and m.meta.label.en.strip(), name
        assert m.meta.unit in UNITS_EN, f"{name}: unit {m.meta.unit!r} has no English"
        d = m.meta.description  # every metric, supporting ones (scorecard: false) included
        assert d is not None and d.zh.strip() and d.en.strip(), (
            f"{name}: every metric needs a description in zh and en"
        )
    en = (DOCS / "reference" / "metrics.en.md").read_text(encoding="utf-8")
    zh = (DOCS / "reference" / "metrics.md").read_text(encoding="utf-8")
    for name in catalog.metrics:
        assert f"| `{name}`" in en and f"| `{name}`" in zh, name


def test_every_table_and_column_is_on_the_model_page_in_both_languages() -> None:
    from luopan.tables import TABLES

    page = (DOCS / "canonical-model.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        assert table.zh.strip() and table.en.strip() and f"## `{table.name}` — " in page
        for c in table.columns:
            assert CJK.search(c.zh) and c.en.strip(), f"{table.name}.{c.name}"
            assert f"| `{c.name}` | {c.kind} " in page

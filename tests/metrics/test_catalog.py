"""Catalog loading and validation: every error names the file, the line and the metric."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from luopan.errors import ConfigError, MetricError
from luopan.metrics import default_catalog, load_catalog, load_catalog_files
from luopan.metrics.expr import expr_names

MODEL = """\
semantic_models:
  - name: orders
    table: orders
    agg_time_dimension: ordered_at
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: store, type: foreign, expr: store_id}
    dimensions:
      - {name: ordered_at, type: time}
      - {name: channel}
  - name: stores
    table: stores
    entities: [{name: store, type: primary, expr: store_id}]
    dimensions: [{name: region}]
"""
META = "meta: {label: {zh: 甲, en: a}, perspective: financial}"


def load(metrics: str) -> None:
    body = "metrics:\n" + textwrap.indent(textwrap.dedent(metrics), "  ")
    load_catalog_files([("models.yaml", MODEL), ("m.yaml", body)])


def test_default_catalog_is_valid_and_complete() -> None:
    cat = default_catalog()
    assert cat.north_star is not None and cat.north_star.name == "gmv"
    on_card = [m for m in cat.metrics.values() if m.meta.scorecard]
    assert len(on_card) >= 28
    perspectives = {m.meta.perspective for m in on_card}
    assert perspectives == {"financial", "customer", "internal_process", "learning_growth"}
    for m in cat.metrics.values():
        assert m.meta.label.zh and m.meta.label.en
    for m in on_card:
        assert m.meta.description is not None and m.meta.targets, m.name
    assert {t.kind for t in cat.trees.values()} == {"multiplicative", "additive"}


def test_unknown_column_names_file_line_and_metric() -> None:
    with pytest.raises(ConfigError) as err:
        load(f"""\
        - name: gmv
          type: simple
          model: orders
          agg: sum
          expr: paid_amount
          {META}
        - name: bad
          type: simple
          model: orders
          agg: sum
          expr: paid_amount * discount_rate
          {META}
        """)
    msg = str(err.value)
    assert msg.startswith("m.yaml:8: metric 'bad'") and "'discount_rate'" in msg


def test_joined_dimension_in_filter_is_checked() -> None:
    load(f"""\
    - name: east
      type: simple
      model: orders
      agg: count
      filter: [{{field: store__region, op: eq, value: 华东}}]
      {META}
    """)
    with pytest.raises(ConfigError, match=r"m.yaml:2: metric 'east'.*'store__planet'"):
        load(f"""\
        - name: east
          type: simple
          model: orders
          agg: count
          filter: [{{field: store__planet, op: eq, value: x}}]
          {META}
        """)


def test_bad_filter_op_points_at_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        load(f"""\
        - name: east
          type: simple
          model: orders
          agg: count
          filter:
            - {{field: channel, op: like, value: "%tmall%"}}
          {META}
        """)
    assert str(err.value).startswith("m.yaml:7: metric 'east' key filter.0.op")


def test_in_needs_a_list() -> None:
    with pytest.raises(ConfigError, match="op in takes a list as value"):
        load(f"""\
        - name: east
          type: simple
          model: orders
          agg: count
          filter: [{{field: channel, op: in, value: tmall}}]
          {META}
        """)


def test_cycle_among_derived_metrics() -> None:
    with pytest.raises(ConfigError) as err:
        load(f"""\
        - name: a
          type: derived
          expr: b + 1
          input_metrics: [{{name: b}}]
          {META}
        - name: b
          type: ratio
          numerator: a
          denominator: a
          {META}
        """)
    assert "m.yaml:2: metric 'a': cycle among metrics a → b → a" in str(err.value)


def test_unknown_input_metric_and_unknown_key() -> None:
    with pytest.raises(ConfigError, match=r"m.yaml:2: metric 'aov': unknown input metric 'ordrs'"):
        load(f"""\
        - name: aov
          type: ratio
          numerator: orders
          denominator: ordrs
          {META}
        - name: orders
          type: simple
          model: orders
          agg: count
          {META}
        """)
    with pytest.raises(ConfigError, match=r"m.yaml:5: metric 'o' key aggregation: Extra inputs"):
        load(f"""\
        - name: o
          type: simple
          model: orders
          aggregation: count
          {META}
        """)


def test_expressions_allow_arithmetic_only() -> None:
    assert sorted(expr_names("coalesce(a, 0) - b * 2 / c")) == ["a", "b", "c"]
    for bad in ("__import__('os')", "a.b", "a[0]", "'x'", "a if b else c", "a; b"):
        with pytest.raises(MetricError, match="is not allowed|does not parse"):
            list(expr_names(bad))


def test_workspace_files_override_and_extend(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "brand.yaml").write_text(
        textwrap.dedent("""\
        metrics:
          - name: tmall_gmv
            type: simple
            model: orders
            agg: sum
            expr: paid_amount
            filter: [{field: channel, op: eq, value: tmall}]
            meta: {label: {zh: 天猫GMV, en: Tmall GMV}, perspective: financial,
                   targets: {week: 9000}}
        """),
        encoding="utf-8",
    )
    cat = load_catalog(tmp_path)
    assert "tmall_gmv" in cat.metrics and "gmv" in cat.metrics
    assert cat.where("tmall_gmv") == f"{tmp_path / 'metrics' / 'brand.yaml'}:2"
    (tmp_path / "metrics" / "broken.yaml").write_text("metrics: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: not valid YAML"):
        load_catalog(tmp_path)


def test_two_north_stars_are_refused() -> None:
    star = "meta: {label: {zh: 甲, en: a}, perspective: financial, north_star: true}"
    with pytest.raises(ConfigError, match="more than one north star: a, b"):
        load(f"""\
        - name: a
          type: simple
          model: orders
          agg: count
          {star}
        - name: b
          type: simple
          model: orders
          agg: count
          {star}
        """)

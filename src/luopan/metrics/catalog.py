"""Load a metric catalog from YAML files and validate it as a whole.

The default retail catalog ships in ``luopan/metrics/catalog/*.yaml``; a workspace adds or
overrides metrics in ``<workspace>/metrics/*.yaml``. Every error names the file, the line and
the metric (unknown key, column, metric or model; cycle among derived metrics; bad filter).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from luopan.errors import ConfigError, MetricError
from luopan.metrics.expr import expr_names
from luopan.metrics.spec import Condition, Metric, SemanticModel, TreeSpec
from luopan.tables import TABLES

__all__ = ["Catalog", "default_catalog", "load_catalog", "load_catalog_files"]

_TOP_KEYS = {"semantic_models", "metrics", "trees"}


@dataclass(frozen=True)
class Catalog:
    """Semantic models, metrics and trees, with the file and line each one came from."""

    models: dict[str, SemanticModel]
    metrics: dict[str, Metric]
    trees: dict[str, TreeSpec]
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)

    def metric(self, name: str) -> Metric:
        """The metric called ``name``; the error lists near names."""
        try:
            return self.metrics[name]
        except KeyError:
            near = [m for m in self.metrics if name.lower() in m or m in name.lower()]
            raise MetricError(
                f"unknown metric {name!r}",
                fix=f"use one of: {', '.join(near or sorted(self.metrics))}",
            ) from None

    def where(self, name: str) -> str:
        """``file:line`` of a metric, model or tree (for messages)."""
        origin = self.origins.get(name)
        return "" if origin is None else f"{origin[0]}:{origin[1]}"

    @property
    def north_star(self) -> Metric | None:
        return next((m for m in self.metrics.values() if m.meta.north_star), None)

    def dependencies(self, name: str) -> tuple[str, ...]:
        """Metrics ``name`` is computed from (direct inputs only)."""
        m = self.metric(name)
        if m.type == "ratio":
            return (str(m.numerator), str(m.denominator))
        if m.type == "derived":
            return tuple(i.name for i in m.input_metrics)
        if m.type == "cumulative":
            return (str(m.input_metric),)
        if m.type == "conversion" and m.conversion is not None:
            return (m.conversion.base_metric, m.conversion.conversion_metric)
        return ()

    def tables(self, name: str) -> frozenset[str]:
        """Warehouse tables metric ``name`` may read: the tables of its models (through its
        inputs) and of every model reachable from them through foreign entities — a superset
        of what a query joins, whichever references, groupings or scope conditions it adds."""
        todo, seen, out, visited = [name], set(), set(), set()
        while todo:
            m = self.metric(todo.pop())
            if m.name in seen:
                continue
            seen.add(m.name)
            todo.extend(self.dependencies(m.name))
            models = [self.models[m.model]] if m.model in self.models else []
            while models:
                model = models.pop()
                if model.name in visited:
                    continue
                visited.add(model.name)
                out.add(model.table)
                for entity in model.entities:
                    if entity.type == "primary":
                        continue
                    models += [
                        t
                        for t in self.models.values()
                        if (p := t.primary()) is not None and p.name == entity.name
                    ]
        return frozenset(out)


def _line_of(node: yaml.Node, loc: Iterable[Any]) -> int:
    """The 1-based line of the YAML node at a pydantic error location (best effort)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value in (key, f"{key}".rstrip("_"))), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1


def _parse_file(path: str, text: str) -> Iterator[tuple[str, str, int, BaseModel]]:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise ConfigError(f"{path}:{line}: not valid YAML ({exc})") from None
    if data is None:
        return
    if not isinstance(data, dict) or root is None:
        raise ConfigError(f"{path}:1: a catalog file is a mapping of {sorted(_TOP_KEYS)}")
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"{path}:{_line_of(root, [key])}: unknown top-level key {key!r}",
                fix=f"use {', '.join(sorted(_TOP_KEYS))}",
            )
    kinds: dict[str, type[BaseModel]] = {
        "semantic_models": SemanticModel,
        "metrics": Metric,
        "trees": TreeSpec,
    }
    for key, cls in kinds.items():
        for i, item in enumerate(data.get(key) or []):
            line = _line_of(root, [key, i])
            name = item.get("name", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            try:
                obj = cls.model_validate(item)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = _line_of(root, [key, i, *err["loc"]])
                at = ".".join(str(p) for p in err["loc"])
                raise ConfigError(
                    f"{path}:{where}: {key[:-1].replace('_', ' ')} {name!r}"
                    f"{f' key {at}' if at else ''}: {err['msg']}",
                    fix="see docs/metrics.md for the catalog format",
                ) from None
            yield key, str(name), line, obj


def load_catalog_files(files: Iterable[tuple[str, str]]) -> Catalog:
    """Build and validate a catalog from ``(path, text)`` pairs; later files override earlier."""
    models: dict[str, SemanticModel] = {}
    metrics: dict[str, Metric] = {}
    trees: dict[str, TreeSpec] = {}
    origins: dict[str, tuple[str, int]] = {}
    for path, text in files:
        for key, name, line, obj in _parse_file(path, text):
            target: dict[str, Any] = {
                "semantic_models": models,
                "metrics": metrics,
                "trees": trees,
            }[key]  # type: ignore[assignment]
            target[name] = obj
            origins[name] = (path, line)
    catalog = Catalog(models, metrics, trees, origins)
    validate_catalog(catalog)
    return catalog


def _default_files() -> list[tuple[str, str]]:
    folder = resources.files("luopan.metrics") / "catalog"
    return sorted(
        (f"luopan/metrics/catalog/{p.name}", p.read_text(encoding="utf-8"))
        for p in folder.iterdir()
        if p.name.endswith(".yaml")
    )


def default_catalog() -> Catalog:
    """The retail catalog shipped with luopan."""
    return load_catalog_files(_default_files())


def load_catalog(workspace: Any = None, *, include_default: bool = True) -> Catalog:
    """The default catalog plus the workspace's ``metrics/*.yaml`` (which override by name).

    Args:
        workspace: a ``luopan.workspace.Workspace`` or a folder path; None for the default only.
        include_default: start from the shipped retail catalog.

    Raises:
        ConfigError: a file is invalid; the message names file, line and metric.
    """
    files = _default_files() if include_default else []
    if workspace is not None:
        root = Path(workspace) if isinstance(workspace, str | Path) else Path(workspace.root)
        files += [
            (str(p), p.read_text(encoding="utf-8"))
            for p in sorted((root / "metrics").glob("*.yaml"))
        ]
    return load_catalog_files(files)


# --- whole-catalog validation ---------------------------------------------------------


def _fail(catalog: Catalog, name: str, what: str, fix: str) -> None:
    raise ConfigError(f"{catalog.where(name)}: {what}", fix=fix)


def _columns(table: str) -> set[str]:
    return set(TABLES[table].column_names) if table in TABLES else set()


def resolvable(catalog: Catalog, model: SemanticModel, ref: str) -> bool:
    """Whether ``ref`` (column, dimension or ``entity__column``) resolves from ``model``."""
    from luopan.metrics.refs import resolve_ref  # noqa: PLC0415 (avoid an import cycle)

    try:
        resolve_ref(catalog, model, ref)
    except MetricError:
        return False
    return True


def _conditions(conds: Iterable[Condition]) -> Iterator[Condition]:
    for c in conds:
        if c.field is not None:
            yield c
        for sub in (c.all or ()) + (c.any or ()) + ((c.not_,) if c.not_ else ()):
            yield from _conditions([sub])


def validate_catalog(catalog: Catalog) -> None:
    """Check references across the catalog; raise ConfigError naming file, line and metric."""
    for name, model in catalog.models.items():
        if model.table not in TABLES:
            _fail(
                catalog,
                name,
                f"semantic model {name!r}: unknown table {model.table!r}",
                f"use one of: {', '.join(TABLES)}",
            )
        cols = _columns(model.table)
        for col in [e.expr for e in model.entities] + [d.column for d in model.dimensions]:
            if col not in cols:
                _fail(
                    catalog,
                    name,
                    f"semantic model {name!r}: unknown column {col!r} in table {model.table}",
                    f"use one of: {', '.join(sorted(cols))}",
                )
    for name, m in catalog.metrics.items():
        for dep in catalog.dependencies(name):
            if dep not in catalog.metrics:
                _fail(
                    catalog,
                    name,
                    f"metric {name!r}: unknown input metric {dep!r}",
                    "define it or fix the name",
                )
        if m.type == "simple":
            if str(m.model) not in catalog.models:
                _fail(
                    catalog,
                    name,
                    f"metric {name!r}: unknown semantic model {m.model!r}",
                    f"use one of: {', '.join(catalog.models)}",
                )
            model = catalog.models[str(m.model)]
            refs = list(expr_names(m.expr)) if m.expr else []
            refs += [c.field for c in _conditions(m.filter) if c.field]
            refs.append(m.agg_time_dimension or model.agg_time_dimension or "")
            for ref in refs:
                if not resolvable(catalog, model, ref):
                    _fail(
                        catalog,
                        name,
                        f"metric {name!r}: unknown column or dimension "
                        f"{ref!r} for model {model.name}",
                        "use a column of the table, a dimension or entity__column",
                    )
        if m.type == "derived":
            aliases = {i.ref for i in m.input_metrics}
            for ref in expr_names(str(m.expr)):
                if ref not in aliases:
                    _fail(
                        catalog,
                        name,
                        f"metric {name!r}: expr uses {ref!r}, not an input",
                        f"inputs are: {', '.join(sorted(aliases))}",
                    )
    _check_cycles(catalog)
    stars = [n for n, m in catalog.metrics.items() if m.meta.north_star]
    if len(stars) > 1:
        _fail(
            catalog,
            stars[1],
            f"more than one north star: {', '.join(stars)}",
            "flag exactly one metric with north_star: true",
        )
    for name, tree in catalog.trees.items():
        for ref in (tree.root, *tree.drivers):
            if ref not in catalog.metrics:
                _fail(
                    catalog,
                    name,
                    f"tree {name!r}: unknown metric {ref!r}",
                    "trees decompose metrics of the catalog",
                )


def _check_cycles(catalog: Catalog) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :] + [name]
            _fail(
                catalog,
                name,
                f"metric {name!r}: cycle among metrics {' → '.join(cycle)}",
                "break the cycle: a metric cannot use itself",
            )
        state[name] = 1
        for dep in catalog.dependencies(name):
            visit(dep, [*path, name])
        state[name] = 2

    for name in catalog.metrics:
        visit(name, [])

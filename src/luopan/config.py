"""Workspace configuration: ``luopan.yaml`` parsed once into strict pydantic models.

Unknown keys are rejected. Errors name the file, the line and the key, and say what was
expected. Secrets never live here: a database URL may reference ``${ENV_VAR}``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from luopan.errors import ConfigError
from luopan.ingest.mapping import ColumnSpec, OutputSpec, load_presets
from luopan.tables import TABLES

__all__ = ["CONFIG_FILE", "ENV_REF", "SourceConfig", "WorkspaceConfig", "expand_env", "load_config"]

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, *, what: str = "the setting") -> str:
    """Replace ``${VAR}`` references with the environment's values (secrets stay out of files).

    Raises:
        ConfigError: a referenced variable is not set; the message names it.
    """
    import os

    missing = sorted({n for n in ENV_REF.findall(text) if n not in os.environ})
    if missing:
        raise ConfigError(
            f"{what} refers to environment variable {', '.join(missing)}, which is not set",
            fix=f"set it before running luopan, e.g. export {missing[0]}=…",
        )
    return ENV_REF.sub(lambda m: os.environ[m.group(1)], text)


CONFIG_FILE = "luopan.yaml"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """One source: files matched by a glob, or a database table/query."""

    name: str = Field(description="unique source name, lowercase letters, digits and _")
    path: str | None = Field(default=None, description="file or glob, relative to the workspace")
    url: str | None = Field(default=None, description="database URL; use ${ENV_VAR} for secrets")
    query: str | None = Field(default=None, description="read-only SQL run on the database")
    db_table: str | None = Field(default=None, description="database table to read whole")
    preset: str | None = Field(default=None, description="platform preset name")
    table: str | None = Field(default=None, description="canonical table fed by a generic mapping")
    columns: dict[str, ColumnSpec] = Field(default={}, description="canonical column: header(s)")
    constants: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    creates_customers: bool = False
    encoding: str | None = Field(default=None, description="override encoding detection")
    sheet: str | int | None = Field(default=None, description="Excel sheet name or index")
    delimiter: str | None = None
    late_after_hours: float = Field(default=48.0, gt=0, description="freshness threshold")
    description: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _coerce_columns(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ColumnSpec.coerce(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self) -> SourceConfig:
        if not _NAME.match(self.name):
            raise ValueError("name must be lowercase letters, digits and _ (e.g. tmall_orders)")
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path (files) or url (a database)")
        if self.url is not None and (self.query is None) == (self.db_table is None):
            raise ValueError("a database source needs exactly one of query or db_table")
        if (self.preset is None) == (self.table is None):
            raise ValueError("give exactly one of preset (a platform export) or table (a mapping)")
        if self.preset is not None and self.preset not in load_presets():
            raise ValueError(f"unknown preset {self.preset!r}; known: {', '.join(load_presets())}")
        if self.table is not None and self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}; known: {', '.join(TABLES)}")
        return self

    def outputs(self) -> dict[str, OutputSpec]:
        """The canonical tables this source feeds, with their mappings."""
        if self.preset is not None:
            return dict(load_presets()[self.preset].outputs)
        assert self.table is not None
        spec = OutputSpec(
            columns=self.columns,
            constants=self.constants,
            values=self.values,
            creates_customers=self.creates_customers,
        )
        return {self.table: spec}


class WorkspaceConfig(_Strict):
    """The whole of ``luopan.yaml``."""

    name: str
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    language: Literal["zh", "en"] = "zh"
    warehouse: str = "duckdb:///warehouse.duckdb"
    metadata: str = Field(
        default="sqlite:///.luopan/metadata.sqlite",
        description="decision log, incidents and actions: SQLite in the workspace, or "
        "postgresql://… for a shared deployment (use ${ENV_VAR} for the password)",
    )
    as_of: dt.datetime | None = Field(
        default=None,
        description="freeze 'now' (local time) for demos and backtests: freshness and "
        "future-timestamp checks use it",
    )
    sources: list[SourceConfig] = []

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("warehouse")
    @classmethod
    def _warehouse(cls, value: str) -> str:
        if not (value.startswith("duckdb://") or value.startswith("spark://")):
            raise ValueError("warehouse must be duckdb:///path.duckdb or spark://local[*]")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("metadata must be sqlite:///FILE or postgresql://…")
        return value

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in sources:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice")
            seen.add(s.name)
        return sources

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(
            f"no source named {name!r}", fix=f"known sources: {', '.join(self.source_names)}"
        )

    @property
    def source_names(self) -> list[str]:
        return [s.name for s in self.sources]


def _line_of(node: yaml.Node, loc: tuple[int | str, ...]) -> int:
    """Best line number (1-based) for a pydantic error location in a composed YAML tree."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def load_config(path: Path) -> WorkspaceConfig:
    """Parse and validate ``luopan.yaml``.

    Raises:
        ConfigError: naming file, line and key, and what was expected.
    """
    if not path.is_file():
        raise ConfigError(
            f"{path}: no luopan.yaml here", fix="run `luopan init DIR` or pass --workspace"
        )
    return load_model(path, WorkspaceConfig, first_key="name")


M = TypeVar("M", bound=BaseModel)


def load_model(path: Path, model: type[M], *, first_key: str | None = None) -> M:
    """Parse a YAML file into a strict pydantic ``model``; errors name file, line and key.

    Raises:
        ConfigError: unreadable file, invalid YAML, or a value the model rejects.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or node is None:
        want = f" with at least `{first_key}:`" if first_key else ""
        raise ConfigError(f"{path}:1: expected a mapping{want}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(node, loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the config reference)"
        raise ConfigError(f"{path}:{line}: key `{key}`: {msg}") from None

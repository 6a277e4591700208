"""Header mappings: platform presets and generic mappings from source headers to the model.

A mapping says, per canonical table it feeds, which source header(s) carry each canonical
column, constants to fill in, value maps (Chinese statuses to the status enum), derived
columns (line numbers) and how repeated order fields on line-level exports aggregate.
Presets are the same model shipped as YAML in ``luopan/ingest/presets/``; a source in
``luopan.yaml`` may instead declare its own mapping. Every canonical column also matches its
own name and its zh label, so an export already in canonical shape needs no mapping at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from luopan.errors import ConfigError, DataContractError
from luopan.tables import TABLES, Table

__all__ = [
    "ColumnSpec",
    "OutputSpec",
    "Preset",
    "ResolvedOutput",
    "detect_presets",
    "load_presets",
    "normalize_header",
    "resolve_output",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """Where one canonical column comes from."""

    aliases: tuple[str, ...] = ()
    hash_prefix: str | None = Field(
        default=None, description="hash the value into a pseudonymous id with this prefix"
    )
    agg: Literal["first", "sum"] = "first"

    @classmethod
    def coerce(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"aliases": (value,)}
        if isinstance(value, list | tuple):
            return {"aliases": tuple(value)}
        return value


class OutputSpec(_Strict):
    """How one source feeds one canonical table."""

    columns: dict[str, ColumnSpec] = {}
    constants: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    derive: dict[str, Literal["row_number"]] = {}
    creates_customers: bool = False
    grouped: bool = Field(
        default=False,
        description="several source rows per key (line-level export): aggregate by the key",
    )

    @field_validator("columns", mode="before")
    @classmethod
    def _coerce_columns(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ColumnSpec.coerce(v) for k, v in value.items()}
        return value


class Preset(_Strict):
    """A platform export layout that needs no hand-written mapping."""

    name: str
    zh: str
    en: str
    platform: str
    outputs: dict[str, OutputSpec]


_UNIT_SUFFIX = re.compile(r"[\(（][^\)）]{0,8}[\)）]$")


def normalize_header(header: str) -> str:
    """Canonical form of a header for matching: NFKC, no BOM, no spaces, no unit suffix."""
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").strip()
    stripped = _UNIT_SUFFIX.sub("", text).strip()
    text = stripped or text
    return re.sub(r"[\s_]+", "", text).lower()


@cache
def load_presets() -> dict[str, Preset]:
    """All presets shipped with luopan, by name."""
    presets: dict[str, Preset] = {}
    folder = resources.files("luopan.ingest") / "presets"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        preset = Preset.model_validate(data)
        for table in preset.outputs:
            if table not in TABLES:
                raise ConfigError(f"preset {entry.name}: unknown canonical table {table!r}")
        presets[preset.name] = preset
    return presets


@dataclass(frozen=True)
class ResolvedOutput:
    """An OutputSpec bound to one file's headers."""

    table: Table
    spec: OutputSpec
    positions: dict[str, int]  # canonical column -> header index
    headers: tuple[str, ...]

    @property
    def mapping(self) -> dict[str, str]:
        return {c: self.headers[i] for c, i in self.positions.items()}


def _aliases(table: Table, column: str, spec: OutputSpec) -> tuple[str, ...]:
    own = spec.columns.get(column)
    col = table.column(column)
    base = (col.name, col.zh, col.en)
    return (own.aliases if own else ()) + base


def resolve_output(
    table_name: str, spec: OutputSpec, headers: tuple[str, ...], *, where: str
) -> ResolvedOutput:
    """Bind a mapping to the headers of one file.

    Raises:
        DataContractError: a required column has no header; the message names the file, the
            aliases tried, the headers present and the mapping line to add.
    """
    table = TABLES[table_name]
    for column in (*spec.columns, *spec.constants, *spec.derive, *spec.values):
        if not table.has(column):
            raise ConfigError(
                f"{where}: mapping for table {table_name!r} names unknown column {column!r}",
                fix=f"use one of: {', '.join(table.column_names)}",
            )
    index: dict[str, int] = {}
    for i, header in enumerate(headers):
        index.setdefault(normalize_header(header), i)
    positions: dict[str, int] = {}
    for column in table.column_names:
        if column in spec.constants or column in spec.derive:
            continue
        for alias in _aliases(table, column, spec):
            found = index.get(normalize_header(alias))
            if found is not None:
                positions[column] = found
                break
    missing = [
        c
        for c in table.required_columns
        if c not in positions and c not in spec.constants and c not in spec.derive
    ]
    if missing:
        column = missing[0]
        tried = ", ".join(_aliases(table, column, spec))
        shown = ", ".join(headers[:30])
        raise DataContractError(
            f"{where}: required column {table_name}.{column} is missing "
            f"(looked for headers: {tried}; the file has: {shown})",
            fix=f"add `{column}: <your header>` under `columns:` for this source in luopan.yaml, "
            "or re-export with the missing column",
        )
    return ResolvedOutput(table, spec, positions, tuple(headers))


def detect_presets(headers: tuple[str, ...]) -> list[tuple[Preset, float]]:
    """Presets ranked by the share of their declared headers found in ``headers``.

    Only presets whose every output resolves (all required columns found) and that recognise
    at least one of their own headers are returned: a canonical file resolves under any preset
    by canonical names, and a preset's constants (e.g. ``platform``) must not overwrite it.
    """
    normalized = {normalize_header(h) for h in headers}
    ranked: list[tuple[Preset, float]] = []
    for preset in load_presets().values():
        declared = [
            spec.aliases
            for out in preset.outputs.values()
            for spec in out.columns.values()
            if spec.aliases
        ]
        if not declared:
            continue
        hits = sum(any(normalize_header(a) in normalized for a in al) for al in declared)
        if hits == 0:  # resolved through canonical names alone: the file is not this export
            continue
        try:
            for table, out in preset.outputs.items():
                resolve_output(table, out, headers, where="detect")
        except DataContractError:
            continue
        ranked.append((preset, hits / len(declared)))
    ranked.sort(key=lambda pair: -pair[1])
    return ranked

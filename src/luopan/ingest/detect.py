"""Guess how to load a file: a platform preset, or a canonical table by its own headers."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from luopan.errors import DataContractError
from luopan.ingest.mapping import OutputSpec, detect_presets, normalize_header, resolve_output
from luopan.ingest.readers import read_file
from luopan.tables import TABLES

__all__ = ["Candidate", "Detection", "detect_file", "detect_headers"]


@dataclass(frozen=True)
class Candidate:
    kind: str  # "preset" | "table"
    name: str
    score: float
    mappings: dict[str, dict[str, str]]  # canonical table -> {canonical column: header}


@dataclass(frozen=True)
class Detection:
    path: Path
    format: str
    encoding: str | None
    headers: tuple[str, ...]
    rows: int
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def detect_headers(headers: tuple[str, ...]) -> list[Candidate]:
    """Presets that fit the headers, then canonical tables whose own column names fit."""
    out: list[Candidate] = []
    for preset, score in detect_presets(headers):
        maps = {
            t: resolve_output(t, spec, headers, where="detect").mapping
            for t, spec in preset.outputs.items()
        }
        out.append(Candidate("preset", preset.name, score, maps))
    normalized = {normalize_header(h) for h in headers}
    for table in TABLES.values():
        try:
            resolved = resolve_output(table.name, OutputSpec(), headers, where="detect")
        except DataContractError:
            continue
        names = {normalize_header(c) for c in table.column_names}
        score = len(names & normalized) / len(table.columns)
        if score >= 0.5 or len(resolved.positions) == len(table.columns):
            out.append(Candidate("table", table.name, score, {table.name: resolved.mapping}))
    presets = [c for c in out if c.kind == "preset"]
    tables = sorted((c for c in out if c.kind == "table"), key=lambda c: -c.score)
    return presets + tables


def detect_file(path: Path, *, sheet: str | int | None = None) -> Detection:
    """Read a file's headers (and count its rows) and rank how it could be loaded."""
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        raw = read_file(path, con, table="raw_detect", sheet=sheet, workdir=Path(tmp))
    con.close()
    return Detection(
        path,
        raw.format,
        raw.encoding,
        raw.headers,
        raw.rows,
        tuple(detect_headers(raw.headers)),
    )

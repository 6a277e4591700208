"""The error tree of luopan.

Every error a user can meet is a ``LuopanError``. Its message says what went wrong, where
(file, line, column, key or rule) and how to fix it. The CLI prints the message and exits
non-zero; the API maps each class to one JSON envelope::

    LuopanError
    ├── ConfigError               luopan.yaml, metric or rule files
    ├── SourceError               a source file or database cannot be read as given
    │   └── EncodingError         bytes that are neither UTF-8 nor GB18030
    ├── DataContractError         rows that break the canonical model (types, keys, references)
    ├── WarehouseError            the warehouse cannot be opened, written or queried
    │   └── ReadOnlyQueryError    a query that would change data
    ├── MetricError
    ├── EngineError
    │   └── InsufficientDataError
    ├── DecisionError
    └── OptionalDependencyError   an extra is not installed; says which pip command fixes it
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataContractError",
    "DecisionError",
    "EncodingError",
    "EngineError",
    "InsufficientDataError",
    "LuopanError",
    "MetricError",
    "OptionalDependencyError",
    "ReadOnlyQueryError",
    "SourceError",
    "WarehouseError",
]


class LuopanError(Exception):
    """Root of every error luopan raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message if fix is None else f"{message}\n  fix: {fix}")


class ConfigError(LuopanError):
    """A configuration file is invalid."""


class SourceError(LuopanError):
    """A source cannot be read as given."""


class EncodingError(SourceError):
    """A file's bytes decode neither as UTF-8 nor as GB18030."""


class DataContractError(LuopanError):
    """Rows break the canonical model."""


class WarehouseError(LuopanError):
    """The warehouse cannot be opened, written or queried."""


class ReadOnlyQueryError(WarehouseError):
    """A query passed to the read-only path tried to change data."""


class MetricError(LuopanError):
    """A metric definition or query is invalid."""


class EngineError(LuopanError):
    """An analytical engine cannot produce a result."""


class InsufficientDataError(EngineError):
    """There is not enough data for a trustworthy result."""


class DecisionError(LuopanError):
    """A rule, playbook or action is invalid or failed."""


class OptionalDependencyError(LuopanError):
    """An optional extra is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(
            f"{what} needs the optional '{extra}' extra, which is not installed",
            fix=f"pip install 'luopan[{extra}]'",
        )

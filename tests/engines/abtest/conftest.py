"""Fixtures of the experiments engine tests: the reference cases and their statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ref(shared_data: Path) -> dict[str, Any]:
    """reference_cases.json (gbstats + statsmodels), cases by name."""
    path = shared_data / "experiments" / "reference_cases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {c["name"]: c for c in data["cases"]}

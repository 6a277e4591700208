"""Fixtures of the funnel engine tests: an in-memory DuckDB and the hand-made event table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import ibis
import pandas as pd
import pytest
from funnels_refs import HAND_EVENTS


@pytest.fixture()
def hand_events() -> pd.DataFrame:
    return pd.DataFrame(
        HAND_EVENTS, columns=["event_id", "user_id", "event_time", "event_name", "channel"]
    )


@pytest.fixture()
def duck() -> Iterator[Callable[[pd.DataFrame, str], Any]]:
    """Load a DataFrame into a fresh in-memory DuckDB and return its Ibis table."""
    con = ibis.duckdb.connect()

    def load(frame: pd.DataFrame, name: str = "events") -> Any:
        return con.create_table(name, frame, overwrite=True)

    yield load
    con.disconnect()

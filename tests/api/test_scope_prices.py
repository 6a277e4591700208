"""Store scopes and the price list: a store sees its own prices and the lists of channels or
the whole country (a ``store_id`` that names no store), never another store's prices."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from luopan.api.errors import ScopeError
from luopan.api.scope import ScopeSpec, scope_table


@pytest.fixture()
def con() -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    con.create_table(
        "stores", pd.DataFrame({"store_id": ["S001", "S002"], "region": ["华南", "华东"]})
    )
    con.create_table(
        "prices",
        pd.DataFrame(
            {
                "date": pd.to_datetime(["2026-11-01"] * 4),
                "sku": ["K1"] * 4,
                "store_id": ["S001", "S002", "ALL", "tmall"],
                "price": [9.9, 8.8, 10.9, 9.5],
                "is_promo": [False, True, False, True],
            }
        ),
    )
    con.create_table("campaigns", pd.DataFrame({"campaign_id": ["C1"], "channel": ["tmall"]}))
    return con


def _rows(con: ibis.BaseBackend, name: str, stores: set[str] | None) -> list[tuple[str, float]]:
    spec = ScopeSpec(
        stores=None if stores is None else frozenset(stores), regions=None, categories=None
    )
    frame = con.execute(scope_table(con, name, spec)).sort_values("store_id")
    return list(zip(frame["store_id"], frame["price"], strict=True))


def test_a_store_sees_its_prices_and_the_lists_of_no_store(con: ibis.BaseBackend) -> None:
    assert _rows(con, "prices", {"S001"}) == [("ALL", 10.9), ("S001", 9.9), ("tmall", 9.5)]
    assert _rows(con, "prices", {"S002"}) == [("ALL", 10.9), ("S002", 8.8), ("tmall", 9.5)]
    assert _rows(con, "prices", None) == [
        ("ALL", 10.9),
        ("S001", 9.9),
        ("S002", 8.8),
        ("tmall", 9.5),
    ]


def test_other_store_tables_and_campaigns_keep_their_rules(con: ibis.BaseBackend) -> None:
    spec = ScopeSpec(stores=frozenset({"S001"}), regions=None, categories=None)
    assert con.execute(scope_table(con, "stores", spec))["store_id"].tolist() == ["S001"]
    with pytest.raises(ScopeError):
        scope_table(con, "campaigns", spec)

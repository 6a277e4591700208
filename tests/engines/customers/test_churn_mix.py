"""The product-mix embedding of the churn model (churn_mix.ProductMix, ChurnModel(mix=...))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from luopan.engines.customers.churn import ChurnModel
from luopan.engines.customers.churn_mix import ProductMix
from luopan.errors import EngineError, InsufficientDataError


def _lines(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer", "day", "item", "amount"])


def _two_assortments() -> pd.DataFrame:
    """Six customers buy x and y, three buy p and q (one line each), all in January."""
    rows = []
    for i in range(6):
        rows += [(f"a{i}", "2024-01-05", "x", 10.0), (f"a{i}", "2024-01-06", "y", 5.0)]
    for i in range(3):
        rows += [(f"b{i}", "2024-01-05", "p", 10.0), (f"b{i}", "2024-01-07", "q", 5.0)]
    return _lines(rows)


def test_customers_of_one_assortment_share_an_axis() -> None:
    occ = _two_assortments()
    mix = ProductMix(dims=2).fit(occ, "2024-01-31")
    index = pd.Index([*(f"a{i}" for i in range(6)), *(f"b{i}" for i in range(3)), "nobody"])
    z = mix.transform(occ, "2024-01-31", index)
    assert list(z.columns) == ["mix_0", "mix_1"]
    # tf-idf rows have unit length and lie in one block; the larger block is the first axis
    assert np.abs(z.loc["a0"].to_numpy()) == pytest.approx([1.0, 0.0], abs=1e-9)
    assert np.abs(z.loc["b2"].to_numpy()) == pytest.approx([0.0, 1.0], abs=1e-9)
    assert (z.loc[[f"a{i}" for i in range(6)]].nunique() == 1).all()  # same basket, same point
    assert (z.loc["nobody"] == 0.0).all()  # no item line: zeros


def test_nothing_after_the_cutoff_and_unseen_items_ignored() -> None:
    occ = _two_assortments()
    later = _lines(
        [
            ("a0", "2024-02-10", "p", 10.0),  # after the cutoff: must not move a0
            ("c0", "2024-02-10", "new", 3.0),  # an item the basis has not seen
        ]
    )
    both = pd.concat([occ, later], ignore_index=True)
    mix = ProductMix(dims=2).fit(both, "2024-01-31")
    assert "new" not in mix.items_
    at_cut = mix.transform(both, "2024-01-31", pd.Index(["a0", "c0"]))
    alone = mix.transform(occ, "2024-01-31", pd.Index(["a0", "c0"]))
    pd.testing.assert_frame_equal(at_cut, alone)
    after = mix.transform(both, "2024-02-28", pd.Index(["a0", "c0"]))
    assert (after.loc["c0"] == 0.0).all()  # only an unseen item
    # a0 now holds x, y and p: a third of its tf-idf weight leaves the first axis
    assert abs(after.loc["a0", "mix_0"]) < abs(at_cut.loc["a0", "mix_0"])
    assert abs(after.loc["a0", "mix_1"]) > 0.0


def test_returns_are_not_purchases_and_errors() -> None:
    occ = _two_assortments()
    returned = pd.concat(
        [occ, _lines([("a0", "2024-01-20", "p", -10.0)])], ignore_index=True
    )  # a returned line is not in the customer's mix
    mix = ProductMix(dims=2).fit(occ, "2024-01-31")
    z = mix.transform(returned, "2024-01-31", pd.Index(["a0"]))
    assert np.abs(z.loc["a0"].to_numpy()) == pytest.approx([1.0, 0.0], abs=1e-9)
    with pytest.raises(InsufficientDataError, match="too few"):
        ProductMix(dims=4).fit(occ, "2024-01-31")  # four items: at most three dimensions
    with pytest.raises(EngineError, match="not fitted"):
        ProductMix().transform(occ, "2024-01-31", pd.Index(["a0"]))


def test_churn_model_reads_the_mix_only_with_items(cdnow_raw: pd.DataFrame) -> None:
    occ = pd.DataFrame(
        {
            "customer": cdnow_raw["customer_id"],
            "day": cdnow_raw["date"],
            "amount": cdnow_raw["dollars"],
        }
    )
    plain = ChurnModel(horizon_days=45).fit(occ, "1997-09-30")
    assert plain.mix_ is None
    assert not any(name.startswith("mix_") for name in plain.feature_names_)
    # a stand-in item: the number of CDs of the purchase (1, 2, 3, 4+)
    items = occ.assign(item=cdnow_raw["cds"].clip(upper=4).astype(str))
    model = ChurnModel(horizon_days=45, mix=2).fit(items, "1997-09-30")
    assert model.mix_ is not None and model.mix_.dims == 2
    assert {"mix_0", "mix_1"} <= set(model.feature_names_)
    scored = model.predict_frame(items, "1997-09-30")
    assert scored["p_churn"].between(0.0, 1.0).all()
    assert len(scored) == 2357
    off = ChurnModel(horizon_days=45, mix=0).fit(items, "1997-09-30")
    assert off.mix_ is None


def test_the_embedding_does_not_depend_on_the_lines_row_order() -> None:
    """A database returns group-by rows in any order; the basis must not follow it."""
    rng = np.random.default_rng(3)
    rows = [
        (f"c{i}", f"2024-01-{1 + int(rng.integers(0, 28)):02d}", f"i{int(k)}", 5.0)
        for i in range(300)
        for k in rng.choice(60, size=int(rng.integers(1, 8)), replace=False)
    ]
    occ = _lines(rows)
    shuffled = occ.sample(frac=1.0, random_state=1).reset_index(drop=True)
    index = pd.Index(sorted(occ["customer"].unique()))
    a = ProductMix(dims=3).fit(occ, "2024-01-31").transform(occ, "2024-01-31", index)
    b = ProductMix(dims=3).fit(shuffled, "2024-01-31").transform(shuffled, "2024-01-31", index)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-10)

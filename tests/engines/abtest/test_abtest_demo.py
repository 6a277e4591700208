"""Planted experiments of the demo world (ground_truth.json → experiments)."""

from __future__ import annotations

from typing import Any

import pytest

from luopan.cli.abtest import review_workspace


@pytest.mark.slow
def test_planted_experiments_are_recovered(demo_world: tuple[Any, dict[str, Any]]) -> None:
    ws, truth = demo_world
    review = review_workspace(ws.warehouse_path, q=0.1)
    got = {e.experiment_id: e for e in review.experiments}
    planted = {t["experiment_id"]: t for t in truth["experiments"]}
    assert set(planted) <= set(got)
    for eid, t in planted.items():
        e = got[eid]
        # the warehouse holds the logged assignments; the estimate's CI covers the true lift
        assert (e.n_control, e.n_treatment) == (t["n_control_logged"], t["n_treatment_logged"])
        assert e.ci_low <= t["true_lift"] <= e.ci_high, (eid, e.ci_low, e.ci_high, t["true_lift"])
        if t["n_treatment_logged"] == t["n_treatment_true"]:
            assert e.control_rate == pytest.approx(t["control_conversion"], abs=1e-5)
            assert e.treatment_rate == pytest.approx(t["treatment_conversion"], abs=1e-5)
        # only the experiment with lost assignment logs raises the SRM alarm (at 0.01)
        assert e.srm_flagged == (t["kind"] == "srm"), (eid, e.srm_p, e.srm_p_sequential)
    assert got[next(k for k, t in planted.items() if t["kind"] == "srm")].verdict == "invalid"
    positive = next(k for k, t in planted.items() if t["kind"] == "positive")
    assert got[positive].lift_abs > 0

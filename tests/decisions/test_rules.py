"""Rules: parsing with file/line errors, and the consecutive-period logic at its boundaries."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from luopan.decisions.evaluate import breaches, evaluate_rule
from luopan.decisions.rules import Condition, Rule, default_rules, load_rules
from luopan.errors import ConfigError, DecisionError

HEALTH = Rule.model_validate(
    {
        "name": "health_recall",
        "label": {"zh": "健康度低", "en": "health low"},
        "metric": "health_index",
        "grain": "week",
        "condition": {"kind": "threshold", "op": "lt", "value": 65},
        "for": 3,
        "cooldown": 4,
    }
)


def weekly(values: list[float | None], start: str = "2026-01-05", drop: tuple[int, ...] = ()):
    idx = pd.period_range(pd.Period(start, freq="W"), periods=len(values), freq="W")
    s = pd.DataFrame({"value": [np.nan if v is None else v for v in values]}, index=idx)
    return s.drop(index=[idx[i] for i in drop])


def fired_at(rule: Rule, series: pd.DataFrame) -> list[int]:
    first = series.index.min()
    return [(f.period - first).n for f in evaluate_rule(rule, series)]


def test_two_weeks_below_do_not_fire_three_do() -> None:
    assert fired_at(HEALTH, weekly([70, 60, 60, 70, 70])) == []
    assert fired_at(HEALTH, weekly([70, 60, 60, 60, 70])) == [3]
    (f,) = evaluate_rule(HEALTH, weekly([70, 60, 64.9, 50]))
    assert (f.streak, f.value, f.measure, f.reference) == (3, 50.0, 50.0, 65.0)


def test_the_threshold_itself_is_not_a_breach() -> None:
    assert fired_at(HEALTH, weekly([65, 65, 65, 65])) == []
    assert fired_at(HEALTH, weekly([64.99, 64.99, 64.99])) == [2]


def test_a_gap_week_resets_the_streak() -> None:
    # weeks 0,1 below; week 2 missing; weeks 3,4 below: never three in a row
    assert fired_at(HEALTH, weekly([60, 60, 60, 60, 60], drop=(2,))) == []
    # a week present but without a value also resets
    assert fired_at(HEALTH, weekly([60, 60, None, 60, 60])) == []
    assert fired_at(HEALTH, weekly([60, 60, None, 60, 60, 60])) == [5]


def test_cooldown_suppresses_refiring_then_allows_it() -> None:
    # below from week 0 on: fires at week 2, again only 4 weeks later (week 6), then week 10
    assert fired_at(HEALTH, weekly([60] * 11)) == [2, 6, 10]
    # recovering and relapsing inside the cool-down does not fire early
    assert fired_at(HEALTH, weekly([60, 60, 60, 70, 60, 60, 60, 60])) == [2, 6]


def test_change_against_the_same_weekday_of_four_weeks() -> None:
    rule = Rule.model_validate(
        {
            "name": "dau_swing",
            "label": {"zh": "日活", "en": "dau"},
            "metric": "dau",
            "condition": {
                "kind": "change",
                "op": "abs_gt",
                "value": 0.15,
                "baseline": "same_weekday_4w",
            },
            "cooldown": 7,
        }
    )
    days = pd.period_range("2026-10-01", periods=35, freq="D")
    weekly_shape = np.array([100, 90, 95, 100, 120, 140, 130], dtype=float)
    value = np.tile(weekly_shape, 5)
    value[30] *= 0.80  # -20% on one day of the fifth week
    value[33] *= 1.10  # +10%: inside the band
    series = pd.DataFrame({"value": value}, index=days)
    (f,) = evaluate_rule(rule, series)
    assert f.period == days[30] and f.reference == pytest.approx(weekly_shape[30 % 7])
    assert f.measure == pytest.approx(-0.20)
    b = breaches(series, rule.condition)
    assert b["reference"].iloc[:21].isna().all()  # fewer than three weeks of history
    assert b["reference"].iloc[21:].notna().all()
    assert b["breach"].sum() == 1
    # a week after the drop, the drop is not part of the baseline
    longer = pd.DataFrame(
        {"value": np.r_[value, weekly_shape]},
        index=pd.period_range("2026-10-01", periods=42, freq="D"),
    )
    later = breaches(longer, rule.condition)
    assert later["reference"].iloc[37] == pytest.approx(weekly_shape[37 % 7])
    assert not later["breach"].iloc[37]


def test_a_drop_after_a_known_week_does_not_echo_in_the_recovery() -> None:
    """A 16-day drop right after a week of known events (the demo world's National Day and
    DAU drop): its second week is judged against older ordinary weeks, not left unjudged, so
    neither week serves as a baseline and the recovery is not a +33% jump."""
    cond = Condition(kind="change", op="abs_gt", value=0.15, baseline="same_weekday_4w")
    days = pd.period_range("2026-08-03", periods=98, freq="D")
    value = np.full(98, 100.0)
    value[42:58] = 75.0  # the drop, days 42-57
    known = pd.Series(False, index=days)
    known.iloc[35:42] = True  # the holiday week before it
    b = breaches(pd.DataFrame({"value": value}, index=days), cond, known)
    assert b["breach"].iloc[42:58].all()  # both weeks of the drop and its last two days
    assert not b["breach"].iloc[:42].any() and not b["breach"].iloc[58:].any()
    # the second week: the latest four ordinary same weekdays, 3-6 weeks back
    assert b["reference"].iloc[49] == pytest.approx(100.0)
    assert b["reference"].iloc[58:].to_numpy() == pytest.approx(np.full(40, 100.0))
    # a firing names the days its reference averaged (the diagnosis compares with them)
    rule = Rule.model_validate(
        {
            "name": "dau_swing",
            "label": {"zh": "日活", "en": "dau"},
            "metric": "dau",
            "condition": cond.model_dump(),
            "cooldown": 7,
        }
    )
    fired = evaluate_rule(rule, pd.DataFrame({"value": value}, index=days), known=known)
    assert [f.period for f in fired] == [days[42], days[49], days[56]]
    # the same four ordinary weeks for all three: the holiday week and the drop's own days
    # are skipped (for the third, days 49 and 42 are the drop, 35 the holiday)
    assert {f.baseline for f in fired} == {(days[28], days[21], days[14], days[7])}
    # eight weeks back at most: two ordinary weeks within them are not a baseline
    gap = pd.Series(True, index=days)
    gap.iloc[[14, 63, 70]] = False  # for day 77: 70 and 63 ordinary, 21-56 known, 14 too old
    far = breaches(pd.DataFrame({"value": value}, index=days), cond, gap)
    assert math.isnan(far["reference"].iloc[77])


def test_an_outlier_too_small_to_breach_is_no_baseline() -> None:
    """A -13% day (no breach of 15%, but far beyond 3 robust SDs of ~1% noise) stays out of the
    same weekday's baseline a week later; a -2% day (within the noise) stays in."""
    cond = Condition(kind="change", op="abs_gt", value=0.15, baseline="same_weekday_4w", min_z=3)
    days = pd.period_range("2026-05-01", periods=126, freq="D")  # the noise needs 77 days
    value = 100.0 * (1 + 0.01 * np.random.default_rng(3).standard_normal(126))
    value[112] = 87.0
    value[113] = 0.98 * value[106]
    b = breaches(pd.DataFrame({"value": value}, index=days), cond)
    assert not b["breach"].any()
    assert b["reference"].iloc[119] == pytest.approx(value[[105, 98, 91, 84]].mean())
    assert b["reference"].iloc[120] == pytest.approx(value[[113, 106, 99, 92]].mean())


def test_known_event_days_never_breach_and_never_serve_as_baseline() -> None:
    days = pd.period_range("2026-10-01", periods=42, freq="D")
    value = np.full(42, 100.0)
    value[34] = 300.0  # a festival spike
    series = pd.DataFrame({"value": value}, index=days)
    cond = Condition(kind="change", op="abs_gt", value=0.15, baseline="same_weekday_4w")
    known = pd.Series(False, index=days)
    known.iloc[34] = True
    b = breaches(series, cond, known)
    assert not b["breach"].any()
    assert b["reference"].iloc[41] == pytest.approx(100.0)  # the spike is not in the baseline
    assert breaches(series, cond)["breach"].iloc[34]  # without the calendar it would fire


def test_change_against_expected_and_vs_target() -> None:
    days = pd.period_range("2026-11-01", periods=4, freq="D")
    series = pd.DataFrame(
        {
            "value": [100.0, 80.0, 100.0, 130.0],
            "expected": [100.0, 100.0, 100.0, 100.0],
            "target": [90.0, 90.0, 90.0, 90.0],
        },
        index=days,
    )
    cond = Condition(kind="change", op="abs_gt", value=0.15, baseline="expected")
    assert breaches(series, cond)["breach"].tolist() == [False, True, False, True]
    under = Condition(kind="target", op="lt", value=-0.05)  # more than 5% under target
    assert breaches(series, under)["breach"].tolist() == [False, True, False, False]
    with pytest.raises(DecisionError, match="no expected column"):
        breaches(series.drop(columns="expected"), cond)


def test_series_of_the_wrong_grain_is_refused() -> None:
    days = pd.DataFrame({"value": [1.0]}, index=pd.period_range("2026-01-01", periods=1, freq="D"))
    with pytest.raises(DecisionError, match="indexed by weeks"):
        evaluate_rule(HEALTH, days)


def test_default_rules_are_the_articles() -> None:
    rules = {r.name: r for r in default_rules().rules}
    assert set(rules) == {
        "health_recall",
        "dau_swing",
        "promo_roi_low",
        "budget_reserve_low",
        "ltv_cac_low",
        "source_late",
    }
    h = rules["health_recall"]
    assert (h.metric, h.grain, h.condition.value, h.for_) == ("health_index", "week", 65, 3)
    assert [a.kind for a in h.actions] == ["open_incident", "playbook"]
    d = rules["dau_swing"].condition
    assert (d.kind, d.op, d.value) == ("change", "abs_gt", 0.15)
    assert rules["promo_roi_low"].for_ == 2 and rules["budget_reserve_low"].condition.value == 0.15
    assert rules["ltv_cac_low"].condition.value == 3.0
    assert all(r.label.zh and r.label.en for r in rules.values())


def test_rule_file_errors_name_the_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - name: x\n"
        "    label: {zh: 甲, en: a}\n"
        "    metric: gmv\n"
        "    condition: {kind: threshold, op: lt, value: 1}\n"
        "    for: 0\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"rules.yaml:6: key `rules.0.for`"):
        load_rules(path)
    path.write_text(
        "rules:\n  - name: x\n    label: {zh: 甲, en: a}\n    metirc: gmv\n"
        "    condition: {kind: threshold}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"rules.yaml:4: key `rules.0.metirc`: unknown key"):
        load_rules(path)


def test_min_z_keeps_the_noise_of_a_small_series_from_firing() -> None:
    rng = np.random.default_rng(3)
    days = pd.period_range("2026-01-01", periods=200, freq="D")
    value = rng.poisson(40, 200).astype(float)  # a small brand: ±16% day-to-day noise
    value[180:] *= 0.45  # a real drop of 55%
    series = pd.DataFrame({"value": value}, index=days)
    plain = Condition(kind="change", op="abs_gt", value=0.15, baseline="same_weekday_4w")
    guarded = plain.model_copy(update={"min_z": 3.0})
    noisy = breaches(series, plain)["breach"].iloc[:180].sum()
    assert noisy >= 10  # the bare 15% rule fires on noise again and again
    b = breaches(series, guarded)
    assert b["breach"].iloc[:180].sum() <= 1
    assert b["breach"].iloc[180:].any()  # the real drop still fires
    assert not b["breach"].iloc[:56].any()  # too little history to know the noise: no firing


def test_a_backfill_bounds_engine_series_but_not_catalog_metrics():
    import datetime as dt

    from luopan.decisions.loop import BACKFILL_SERIES_PERIODS, _lookback, _start
    from luopan.decisions.rules import default_rules

    rules = {r.name: r for r in default_rules().rules}
    now = dt.datetime(2026, 11, 30, 9)
    assert _start(rules["dau_swing"], now, backfill=True) is None
    health = rules["health_recall"]
    # Monday of the week 26 weeks before the week of 2026-11-30 (itself a Monday)
    assert _start(health, now, backfill=True) == dt.date(2026, 11, 30) - dt.timedelta(
        weeks=BACKFILL_SERIES_PERIODS
    )
    assert _start(health, now, backfill=False) == dt.date(2026, 11, 30) - dt.timedelta(
        weeks=_lookback(health)
    )


def test_a_routine_run_looks_back_as_far_as_each_condition_needs():
    """Fixed-number conditions: streak + cool-down + 1 periods, whatever the metric; a
    change condition: its grain's look-back (room for the baseline)."""
    import datetime as dt

    from luopan.decisions._window import _LOOKBACK, _lookback, _start
    from luopan.decisions.rules import default_rules

    rules = {r.name: r for r in default_rules().rules}
    ltv = rules["ltv_cac_low"]  # threshold, month, for 1, cool-down 1 (the defaults)
    assert _lookback(ltv) == ltv.for_ + ltv.cooldown + 1 == 3
    now = dt.datetime(2026, 11, 30, 9)
    assert _start(ltv, now, backfill=False) == dt.date(2026, 8, 1)
    roi = rules["promo_roi_low"]  # benchmark, for 2, cool-down 2
    assert _lookback(roi) == 5
    assert _start(roi, now, backfill=False) == dt.date(2026, 6, 1)
    dau = rules["dau_swing"]  # change against the same weekday of 4 weeks
    assert _lookback(dau) == _LOOKBACK["day"] == 70
    assert _start(dau, now, backfill=True) is None and _start(ltv, now, backfill=True) is None

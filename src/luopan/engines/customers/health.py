"""User health index 0–100 per customer, and its weekly mean per segment.

Formula, per customer with a purchase on or before the cutoff (every component in [0, 1],
1 = no sign of risk):

- **rhythm** (weight 0.40): recency against the customer's own expected gap between purchases.
  The gap is shrunk toward the population, ĝ = (t_x + g₀) / (x + 1), with x repeat purchase
  days, t_x the days from the first to the last, and g₀ the median own mean gap of the repeat
  buyers at the cutoff (one pseudo-gap: a one-time buyer is measured against the typical
  customer's rhythm). With purchases a Poisson process at rate 1/ĝ while active, a silence of R
  days has likelihood e^(−R/ĝ) for an active customer; with prior odds 9 : 1 of being still
  active, the posterior probability of being active, rescaled so that R = 0 gives 1, is
  ``(1 + c) / (1 + c·e^(R/ĝ))``, c = 1/9: 0.85 after one expected gap, 0.61 after two, 0.34
  after three, 0.16 after four (the P(alive) logic of Schmittlein, Morrison & Colombo 1987 with
  the customer's own rate in place of a population model; the Pareto/NBD P(alive) used until
  2026-11-30 is degenerate on Online Retail, where the dropout rate is not identified and every
  customer's P(alive) is 1).
- **loyalty** (0.25): ``x / (x + 1)``, repeat purchase days (0 for a one-time buyer, 0.5 after
  one repeat, 0.9 after nine), *counted as far as the customer is still active*: its points are
  rhythm × loyalty (the expected loyalty; a relationship that has probably ended is not one).
  Repeat purchases are the strongest single predictor of a purchase in the next 45 days among
  customers active in the last 90 (AUC 0.68–0.75 on CDNOW and Online Retail): a first purchase
  is not yet a relationship.
- **trend** (0.20): the mean of a frequency and a spend score, each ``min(1, 2·t)`` with t the
  share of the last two ``window_days`` windows that falls in the recent one, by Laplace's rule
  of succession: ``(n₁ + 1) / (n₁ + n₀ + 2)`` on purchase days, ``(s₁ + m) / (s₁ + s₀ + 2m)``
  on spend (m = the customer's mean spend per purchase day). Steady or rising = 1, falling
  below. A customer younger than the two windows gets 1 (no trend measurable); the formula used
  until 2026-11-30 scored them as "rising" and steady customers 0.5, which made the trend rank
  customers backwards (AUC 0.40 on Online Retail).
- **complaints** (0.15): ``1 / (1 + k)``, k = complaints in the last ``window_days``; without a
  complaint table its weight is spread over the others.

health = 100 × (0.40·rhythm + 0.25·rhythm·loyalty + 0.20·trend + 0.15·complaints) / Σ weights.
A steady customer with nine repeat purchases and no complaint scores 97.5; a one-time buyer at
their first purchase 75; a customer with nine repeat purchases silent for three of their gaps 50–56 (by trend). Weights:
rhythm first because it is the component that moves from week to week, which a weekly rule
needs; loyalty second because it ranks best but changes slowly; trends and complaints as the
issue lists them. Gating loyalty by rhythm costs 0.02–0.03 of AUC against adding it, and is
what lets a segment whose members stop buying fall well below 65: on the demo world, if every
member of one segment who bought in the 90 days before a three-week wave stops buying in it,
the additive form bottoms out at 65.5 six weeks later (new buyers keep entering, the lapsed
leave the 90-day active set), the gated one at 57. Measured (benchmarks/RESULTS.md, ``clv``):
AUC of the index for "buys in the next 45 days" among customers active in the last 90 days
0.61–0.67 on CDNOW and Online Retail (the previous formula: 0.39–0.56, worse than random on
Online Retail); mean over those customers 76–82.

The weekly index of a segment (``health_by_segment``) is the mean over its *active* customers
(a purchase in the last ``active_days``), so customers long gone do not dilute it and new
silence shows at once. The shipped rule "below 65 for 3 consecutive weeks → recall playbook"
reads that weekly mean.

References:
    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
    they and what will they do next? Management Science 33(1), 1–24 (P(alive)).
    Buckinx, W. & Van den Poel, D. (2005). Customer base analysis: partial defection of
    behaviourally loyal clients in a non-contractual FMCG retail setting. EJOR 164(1), 252–268
    (inter-purchase time against the customer's own rhythm, frequency and spend trends).
    Laplace, P.-S. (1814). Essai philosophique sur les probabilités (rule of succession).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PRIOR_ODDS", "WEIGHTS", "HealthIndex", "health_index", "health_by_segment"]

WEIGHTS = {"rhythm": 0.40, "loyalty": 0.25, "trend": 0.20, "complaints": 0.15}
#: prior odds of "still active" against "gone" in the rhythm component
PRIOR_ODDS = 9.0


@dataclass(frozen=True)
class HealthIndex:
    """Per-customer health and its components at one cutoff."""

    cutoff: pd.Timestamp
    customers: pd.DataFrame  # health, rhythm, loyalty, trend[, complaints], expected_gap
    population_gap: float  # g₀: median own mean gap of the repeat buyers, days

    def to_table(self) -> pd.DataFrame:
        return self.customers


def _rising(recent: pd.Series, before: pd.Series, prior: pd.Series | float) -> pd.Series:
    """min(1, 2·(recent + prior) / (recent + before + 2·prior)): 1 = steady or rising."""
    return np.minimum(1.0, 2.0 * (recent + prior) / (recent + before + 2.0 * prior))


def health_index(
    occasions: pd.DataFrame,
    cutoff: str | pd.Timestamp,
    *,
    complaints: pd.DataFrame | None = None,
    window_days: int = 90,
) -> HealthIndex:
    """Health 0–100 of every customer with a purchase on or before ``cutoff``.

    Args:
        occasions: ``customer``, ``day``, ``amount`` per purchase (rows of negative amount,
            returns, are not purchases). ``customer`` may be a pandas Categorical whose
            categories are the sorted unique IDs (its codes are then used as they are).
        complaints: ``customer``, ``day`` per complaint (tickets), optional.
        window_days: the recent window of the trend and complaint components.

    Returns:
        ``HealthIndex`` with one row per customer (index customer).
    """
    data = _Purchases.of(occasions, complaints)
    h = _score(data, pd.Timestamp(cutoff).normalize(), window_days=window_days)
    h.customers.index = data.names.take(h.customers.index).rename("customer")
    return h


@dataclass(frozen=True)
class _Purchases:
    """Occasions prepared once for many cutoffs: customers as integer codes (in the sorted
    order of their IDs, so a grouping by code orders rows as one by ID would), purchase days
    summed per customer and day, complaints coded the same way."""

    names: pd.Index  # customer ID of each code
    codes: np.ndarray  # code of each occasion row
    days: np.ndarray  # its day (normalised)
    purchases: pd.DataFrame  # customer (code), day, amount: one row per purchase day
    complaint_codes: np.ndarray | None  # -1: a customer with no occasion
    complaint_days: np.ndarray | None

    @classmethod
    def of(cls, occasions: pd.DataFrame, complaints: pd.DataFrame | None) -> _Purchases:
        customer = occasions["customer"]
        names = None
        if isinstance(customer.dtype, pd.CategoricalDtype):  # coded already: keep the codes
            names = pd.Index(customer.cat.categories).astype(str)
            codes = customer.cat.codes.to_numpy(dtype=np.intp)
            if not (names.is_unique and names.is_monotonic_increasing):
                names = None
        if names is None:
            codes, names = pd.factorize(customer.astype(str), sort=True)
        days = pd.to_datetime(occasions["day"]).dt.normalize().to_numpy()
        occ = pd.DataFrame(
            {
                "customer": codes,
                "day": days,
                "amount": pd.to_numeric(occasions["amount"]).to_numpy(dtype=float),
            }
        )
        occ = occ[(occ["amount"] >= 0) & (codes >= 0)]  # -1: no customer ID
        purchases = _per_day(occ)
        order = purchases["customer"].to_numpy(), purchases["day"].to_numpy()
        if len(purchases) > 1 and (
            (np.diff(order[0]) < 0).any()
            or ((np.diff(order[0]) == 0) & (np.diff(order[1]) < np.timedelta64(0))).any()
        ):  # ``_score`` reads each customer's days as one sorted run
            purchases = purchases.sort_values(["customer", "day"], ignore_index=True)
        c_codes = c_days = None
        if complaints is not None:
            c_codes = names.get_indexer(complaints["customer"].astype(str))
            c_days = pd.to_datetime(complaints["day"]).dt.normalize().to_numpy()
        return cls(pd.Index(names), codes, days, purchases, c_codes, c_days)


def _per_day(occ: pd.DataFrame) -> pd.DataFrame:
    """``occ.groupby(["customer", "day"], as_index=False)["amount"].sum()`` for integer
    customer codes and normalised days, grouped on one integer key (code × days + day):
    the same groups, in the same order, summed over the same rows in the same order."""
    day = occ["day"].to_numpy()
    if day.dtype.kind != "M" or len(day) == 0 or np.isnat(day).any():
        return occ.groupby(["customer", "day"], as_index=False)["amount"].sum()
    step = np.timedelta64(1, "D").astype(f"timedelta64[{np.datetime_data(day.dtype)[0]}]")
    ticks = day.view("i8")
    lo, unit = int(ticks.min()), int(step.view("i8"))
    offset = (ticks - lo) // unit
    if not (offset * unit == ticks - lo).all():  # not whole days: group as given
        return occ.groupby(["customer", "day"], as_index=False)["amount"].sum()
    span = int(offset.max()) + 1
    key = occ["customer"].to_numpy().astype(np.int64) * span + offset
    if (np.diff(key) > 0).all():  # one row per customer and day, sorted already
        return occ.reset_index(drop=True)
    sums = pd.Series(occ["amount"].to_numpy(), index=key).groupby(level=0).sum()
    k = sums.index.to_numpy()
    return pd.DataFrame(
        {
            "customer": (k // span).astype(occ["customer"].dtype),
            "day": (lo + (k % span) * unit).view(day.dtype),
            "amount": sums.to_numpy(),
        }
    )


def _spread(values: pd.Series, index: pd.Index, n: int) -> pd.Series:
    """``values.reindex(index, fill_value=0)`` for integer codes below ``n``, by position."""
    full = np.zeros(n, dtype=values.dtype)
    full[values.index.to_numpy()] = values.to_numpy()
    return pd.Series(full[index.to_numpy()], index=index, name=values.name)


def _score(data: _Purchases, cut: pd.Timestamp, *, window_days: int) -> HealthIndex:
    """The health index at ``cut``, indexed by customer code (see ``health_index``).

    Counted with ``np.bincount`` on the purchase days, which ``_per_day`` leaves sorted by
    customer code and day: the days on or before ``cut`` are a prefix of each customer's run,
    so a customer's first and last day are the ends of that prefix. The same figures as the
    pandas group-bys of ``tests/engines/customers/test_health_vectorised.py`` (sums up to
    floating-point order), about 8× faster on a million buyers: the weekly series of an
    incremental run scores eight cutoffs.
    """
    p = data.purchases
    day = p["day"].to_numpy().astype("datetime64[D]").astype(np.int64)
    cut_day = int(np.datetime64(cut.normalize(), "D").astype(np.int64))
    on = day <= cut_day
    code = p["customer"].to_numpy().astype(np.intp)[on]
    day, amount = day[on], p["amount"].to_numpy(dtype=float)[on]
    n = len(data.names)
    count = np.bincount(code, minlength=n)
    index = pd.Index(np.flatnonzero(count), name="customer")
    rows = count[index]
    start = (np.cumsum(count) - count)[index]
    first, last = day[start], day[start + rows - 1]
    x = pd.Series(rows - 1.0, index=index)
    recency = (cut_day - last).astype(float)
    span = (last - first).astype(float)  # t_x
    repeat = x.to_numpy() > 0
    own_gap = np.median(span[repeat] / x.to_numpy()[repeat]) if repeat.any() else np.nan
    g0 = float(own_gap) if np.isfinite(own_gap) and own_gap > 0 else float(window_days)
    gap = (span + g0) / (x + 1.0)
    c = 1.0 / PRIOR_ODDS
    out = pd.DataFrame(index=index)
    out["rhythm"] = (1.0 + c) / (1.0 + c * np.exp(np.minimum(recency / gap, 50.0)))
    out["loyalty"] = x / (x + 1.0)

    def per_customer(mask: np.ndarray | None, weights: np.ndarray | None = None) -> pd.Series:
        c, w = code, weights
        if mask is not None:  # None: every purchase day
            c, w = code[mask], None if weights is None else weights[mask]
        total = np.bincount(c, weights=w, minlength=n)[index]
        return pd.Series(total.astype(float), index=index)

    recent = day > cut_day - window_days
    before = (day > cut_day - 2 * window_days) & ~recent
    n1, n0 = per_customer(recent), per_customer(before)
    s1, s0 = per_customer(recent, amount), per_customer(before, amount)
    mean_spend = (per_customer(None, amount) / rows).clip(lower=1e-9)
    trend = (_rising(n1, n0, 1.0) + _rising(s1, s0, mean_spend)) / 2.0
    old_enough = (cut_day - first) >= 2 * window_days
    out["trend"] = trend.where(old_enough, 1.0)
    weights = dict(WEIGHTS)
    if data.complaint_codes is not None and data.complaint_days is not None:
        w = pd.Timedelta(days=window_days)
        c_day = data.complaint_days
        known = data.complaint_codes[(c_day > cut - w) & (c_day <= cut)]
        k = np.bincount(known[known >= 0], minlength=len(data.names))
        out["complaints"] = 1.0 / (1.0 + pd.Series(k[out.index], index=out.index))
    else:
        weights.pop("complaints")
    total = sum(weights.values())
    # loyalty counts only as far as the customer is still likely to be active
    points = {name: out[name] for name in weights} | {"loyalty": out["rhythm"] * out["loyalty"]}
    out["health"] = 100.0 * sum(points[name] * wt for name, wt in weights.items()) / total
    out["expected_gap"] = gap
    return HealthIndex(cutoff=cut, customers=out, population_gap=g0)


def health_by_segment(
    occasions: pd.DataFrame,
    segment_of: pd.Series,
    cutoffs: Sequence[str | pd.Timestamp],
    *,
    complaints: pd.DataFrame | None = None,
    active_days: int = 90,
    min_customers: int = 30,
) -> pd.DataFrame:
    """Mean health per segment at each cutoff (e.g. weekly), over customers active in
    the last ``active_days``; segments with fewer active customers are left out.

    The occasions are prepared once (customers coded, purchase days summed) and each cutoff
    is scored on them, so many cutoffs cost one pass over the strings, not one each.

    Returns a frame: cutoff, segment, customers, health.
    """
    labels = segment_of.copy()
    labels.index = labels.index.astype(str)
    data = _Purchases.of(occasions, complaints)
    label_of = labels.reindex(data.names)  # the segment of each code
    rows: dict[pd.Timestamp, pd.DataFrame] = {}
    cuts = [pd.Timestamp(c).normalize() for c in cutoffs]
    for cut in sorted(set(cuts)):
        h = _score(data, cut, window_days=90).customers
        window = (data.days > cut - pd.Timedelta(days=active_days)) & (data.days <= cut)
        seen = np.zeros(len(data.names), dtype=bool)
        seen[data.codes[window & (data.codes >= 0)]] = True
        active = seen[h.index.to_numpy()]
        frame = pd.DataFrame({"health": h["health"][active]})
        segment = label_of.iloc[frame.index.to_numpy()]
        segment.index = frame.index
        frame["segment"] = segment
        agg = frame.dropna().groupby("segment")["health"].agg(["size", "mean"]).reset_index()
        agg = agg[agg["size"] >= min_customers].rename(
            columns={"size": "customers", "mean": "health"}
        )
        agg.insert(0, "cutoff", cut)
        rows[cut] = agg
    return pd.concat([rows[c] for c in cuts], ignore_index=True)

"""The programme view: many experiments over a period, governed together.

Three things no single-test tool gives an operations team running tests back to back:

* win rate and cumulative impact, with each test's lift shrunk towards the programme mean by
  positive-part James-Stein (the winners of many noisy tests overstate their effects);
* false-discovery control across the programme in arrival order (LOND or LORD++ on anytime-valid
  p-values, so daily peeking is allowed), measured by :func:`simulate_programme`;
* a simulation that checks the realised FDR against q and the power against offline BH.

References:
    Efron, B., Morris, C. (1973). Stein's estimation rule and its competitors - an empirical
    Bayes approach. JASA 68, 117-130 (positive-part James-Stein).
    Javanmard & Montanari (2018); Ramdas et al. (2017); Wang & Ramdas (2022) — see multiple.py.
    Waudby-Smith et al. (2023) — the anytime-valid p-values fed to the online procedures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from luopan.engines.abtest.frequentist import compare
from luopan.engines.abtest.multiple import benjamini_hochberg, e_bh, lond, lord_plus_plus
from luopan.engines.abtest.sequential import confidence_sequence, cs_rho
from luopan.engines.abtest.srm import check_srm, sequential_srm
from luopan.engines.abtest.stats import ProportionStats
from luopan.errors import InsufficientDataError

__all__ = [
    "ExperimentReview",
    "ProgrammeReview",
    "review_programme",
    "ProgrammeSimulation",
    "ProgrammeSummary",
    "shrink",
    "simulate_programme",
    "summarize_programme",
]


def shrink(
    estimates: Sequence[float] | np.ndarray, ses: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Positive-part James-Stein shrinkage of lifts towards their precision-weighted mean.

    x̃_i = m + max(0, 1 - (k - 3) s_i² / Σ(x_j - m)²) (x_i - m), for k ≥ 4 tests.

    References:
        Efron & Morris (1973), JASA 68, eq. 7.1.
    """
    x, s = np.asarray(estimates, dtype=float), np.asarray(ses, dtype=float)
    k = x.size
    if k < 4:
        raise InsufficientDataError(
            f"shrinkage needs 4+ experiments (got {k})",
            fix="report the raw lifts until more tests finish",
        )
    w = 1 / np.maximum(s * s, 1e-300)
    m = float((w * x).sum() / w.sum())
    ss = float(((x - m) ** 2).sum())
    factor = np.clip(1 - (k - 3) * s * s / max(ss, 1e-300), 0.0, 1.0)
    return m + factor * (x - m)


@dataclass(frozen=True)
class ProgrammeSummary:
    """Win rate, raw and shrunk cumulative impact of a set of finished experiments."""

    n_experiments: int
    n_wins: int
    win_rate: float
    impact_raw: float
    impact_shrunk: float
    shrunk: tuple[float, ...]


def summarize_programme(
    estimates: Sequence[float] | np.ndarray,
    ses: Sequence[float] | np.ndarray,
    wins: Sequence[bool],
    weights: Sequence[float] | None = None,
) -> ProgrammeSummary:
    """Summarise shipped wins: Σ weight·lift over wins, raw and after shrinkage."""
    x = np.asarray(estimates, dtype=float)
    won = np.asarray(wins, dtype=bool)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    shrunk = shrink(x, ses)
    return ProgrammeSummary(
        int(x.size),
        int(won.sum()),
        float(won.mean()),
        float((w * x)[won].sum()),
        float((w * shrunk)[won].sum()),
        tuple(float(v) for v in shrunk),
    )


@dataclass(frozen=True)
class ProgrammeSimulation:
    """Realised FDR (mean false-discovery proportion) and power per procedure over seeds."""

    seeds: int
    tests: int
    share_true: float
    q: float
    fdr: dict[str, float]
    fdr_se: dict[str, float]
    power: dict[str, float]


def _one_programme(
    rng: np.random.Generator,
    tests: int,
    share_true: float,
    days: int,
    lift: tuple[float, float],
    alpha_cs: float,
) -> dict[str, np.ndarray]:
    """Simulate one programme; returns per-test null flags, p-values and e-values."""
    is_true = rng.random(tests) < share_true
    base = rng.uniform(0.03, 0.10, tests)
    eff = np.where(is_true, rng.uniform(*lift, tests), 0.0)
    daily = rng.integers(400, 1500, tests)  # units per arm per day
    start = np.sort(rng.integers(0, 365 - days, tests))
    nc = np.cumsum(np.broadcast_to(daily[:, None], (tests, days)), axis=1).astype(float)
    kc = np.cumsum(rng.binomial(daily[:, None], base[:, None], (tests, days)), axis=1)
    kt = np.cumsum(rng.binomial(daily[:, None], (base * (1 + eff))[:, None], (tests, days)), axis=1)
    pc, pt = np.maximum(kc / nc, 1e-9), kt / nc
    est = (pt - pc) / pc
    var = pt * (1 - pt) / (pc**2 * nc) + pc * (1 - pc) * pt**2 / (pc**4 * nc)
    var = np.maximum(var, 1e-18)
    n_total = 2 * nc
    n_star = n_total[:, -1]
    rho2 = np.array([cs_rho(alpha_cs, ns) ** 2 for ns in n_star])[:, None]
    st2 = est**2 * n_total / var
    tr = n_total * rho2 + 1
    log_e = rho2 * st2 / (2 * tr) - 0.5 * np.log(tr)
    p_any = np.minimum(1.0, np.exp(-np.maximum.accumulate(log_e, axis=1)))[:, -1]
    e_end = np.exp(np.minimum(log_e[:, -1], 700))
    z_end = est[:, -1] / np.sqrt(var[:, -1])
    p_fixed = 2 * st.norm.sf(np.abs(z_end))
    p_peek = 2 * st.norm.sf(np.abs(est / np.sqrt(var))).min(axis=1)
    order = np.argsort(start + days, kind="stable")  # decisions in order of completion
    return {
        "null": ~is_true[order],
        "p_any": p_any[order],
        "e_end": e_end[order],
        "p_fixed": p_fixed[order],
        "p_peek": p_peek[order],
    }


def simulate_programme(
    *,
    seeds: int = 500,
    tests: int = 168,
    share_true: float = 0.1,
    q: float = 0.1,
    days: int = 21,
    lift: tuple[float, float] = (0.15, 0.35),
    seed: int = 0,
) -> ProgrammeSimulation:
    """Monte-Carlo of a year of conversion tests, each peeked at daily for ``days`` days.

    Procedures: LOND and LORD++ at level q on each test's anytime-valid p-value (running minimum
    of the confidence-sequence p over the daily looks, in order of completion); e-BH at q on
    the e-values at each test's end; offline BH at q on fixed-horizon p-values (the benchmark
    for power, which needs all tests finished); and naive daily peeking at p < q (no control).

    References:
        Javanmard & Montanari (2018); Ramdas et al. (2017); Wang & Ramdas (2022);
        Waudby-Smith et al. (2023).
    """
    rng = np.random.default_rng(seed)
    names = ("lond", "lord++", "e-bh", "offline-bh", "naive-peeking")
    fdp: dict[str, list[float]] = {k: [] for k in names}
    pw: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(seeds):
        sim = _one_programme(rng, tests, share_true, days, lift, alpha_cs=q)
        null = sim["null"]
        rej = {
            "lond": np.asarray(lond(sim["p_any"], q=q)),
            "lord++": np.asarray(lord_plus_plus(sim["p_any"], q=q)),
            "e-bh": np.asarray(e_bh(sim["e_end"], q=q)),
            "offline-bh": np.asarray(benjamini_hochberg(sim["p_fixed"])) <= q,
            "naive-peeking": sim["p_peek"] < q,
        }
        for k, r in rej.items():
            fdp[k].append(float((r & null).sum() / max(int(r.sum()), 1)))
            n_true = int((~null).sum())
            if n_true:
                pw[k].append(float((r & ~null).sum() / n_true))
    return ProgrammeSimulation(
        seeds,
        tests,
        share_true,
        q,
        {k: float(np.mean(v)) for k, v in fdp.items()},
        {k: float(np.std(v, ddof=1) / np.sqrt(len(v))) for k, v in fdp.items()},
        {k: float(np.mean(v)) if v else 0.0 for k, v in pw.items()},
    )


@dataclass(frozen=True)
class ExperimentReview:
    """One finished or running experiment of the programme."""

    experiment_id: str
    name: str
    start: str
    end: str
    control: str
    treatment: str
    n_control: int
    n_treatment: int
    control_rate: float
    treatment_rate: float
    lift_abs: float
    ci_low: float
    ci_high: float
    p_value: float
    p_anytime: float
    srm_p: float
    srm_p_sequential: float
    srm_flagged: bool
    fdr_discovery: bool
    verdict: str


@dataclass(frozen=True)
class ProgrammeReview:
    """All experiments of a period with programme-level FDR control and impact."""

    q: float
    experiments: tuple[ExperimentReview, ...]
    skipped: tuple[tuple[str, str], ...]
    summary: ProgrammeSummary | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _day(value: object) -> str:
    return str(pd.Timestamp(str(value)).date())


def _pick_control(variants: list[str]) -> str:
    for name in ("control", "holdout", "baseline", "对照组"):
        if name in variants:
            return name
    return sorted(variants)[0]


def review_programme(
    experiments: pd.DataFrame,
    conversions: pd.DataFrame,
    daily_assignments: pd.DataFrame,
    *,
    metrics: dict[str, str] | None = None,
    q: float = 0.1,
    alpha: float = 0.05,
    srm_threshold: float = 0.01,
) -> ProgrammeReview:
    """Review every two-arm conversion experiment and control the programme's FDR.

    Args:
        experiments: experiment_id, name, primary_metric, start_date, end_date.
        conversions: experiment_id, variant, n, conversions (see ``ibis_event_conversion``).
        daily_assignments: experiment_id, day, variant, n (for the sequential SRM check).
        metrics: primary metrics this review can compute (default: pay_conversion).
        q: programme FDR level of LOND, applied in order of end date to the anytime-valid
            p-values (valid although everyone peeked at the results daily).

    A test whose SRM p (χ² or sequential) is below ``srm_threshold`` is marked invalid and
    never counted as a discovery.
    """
    metrics = metrics or {"pay_conversion": "pay"}
    rows: list[dict[str, object]] = []
    skipped: list[tuple[str, str]] = []
    exps = experiments.sort_values(["end_date", "experiment_id"])
    for e in exps.itertuples(index=False):
        eid = str(e.experiment_id)
        if str(e.primary_metric) not in metrics:
            skipped.append((eid, f"primary metric {e.primary_metric!r} is not computed here"))
            continue
        conv = conversions[conversions.experiment_id == eid]
        variants = conv.variant.astype(str).tolist()
        if len(variants) != 2:
            skipped.append((eid, f"{len(variants)} variants (programme review takes 2)"))
            continue
        ctrl = _pick_control(variants)
        trt = next(v for v in variants if v != ctrl)
        cr, tr = (conv[conv.variant == v].iloc[0] for v in (ctrl, trt))
        a = ProportionStats(int(cr.n), float(cr.conversions))
        b = ProportionStats(int(tr.n), float(tr.conversions))
        fixed = compare(a, b, relative=False, alpha=alpha)
        seq = confidence_sequence(a, b, relative=False, alpha=alpha, n_star=a.n + b.n)
        daily = daily_assignments[daily_assignments.experiment_id == eid]
        wide = daily.pivot_table(index="day", columns="variant", values="n", fill_value=0)
        wide = wide.reindex(columns=[ctrl, trt], fill_value=0)
        srm = check_srm([a.n, b.n], [0.5, 0.5], threshold=srm_threshold)
        ssrm = sequential_srm(wide.to_numpy(), [0.5, 0.5], threshold=srm_threshold)
        rows.append(
            dict(
                experiment_id=eid,
                name=str(e.name),
                start=_day(e.start_date),
                end=_day(e.end_date),
                control=ctrl,
                treatment=trt,
                n_control=a.n,
                n_treatment=b.n,
                control_rate=a.mean,
                treatment_rate=b.mean,
                lift_abs=fixed.estimate,
                ci_low=fixed.ci_low,
                ci_high=fixed.ci_high,
                p_value=fixed.p_value,
                p_anytime=seq.p_value,
                srm_p=srm.p_value,
                srm_p_sequential=ssrm.p_value,
                srm_flagged=srm.flagged or ssrm.flagged,
                se=fixed.se,
            )
        )
    p_for_fdr = [1.0 if r["srm_flagged"] else float(r["p_anytime"]) for r in rows]  # type: ignore[arg-type]
    found = lond(p_for_fdr, q=q) if rows else []
    reviews = []
    for r, hit in zip(rows, found, strict=True):
        se = r.pop("se")
        if r["srm_flagged"]:
            verdict = "invalid"
        elif hit:
            verdict = "ship" if float(r["lift_abs"]) > 0 else "rollback"  # type: ignore[arg-type]
        else:
            verdict = "keep_running"
        r["se"] = se
        reviews.append((r, hit, verdict))
    summary = None
    if len(reviews) >= 4:
        summary = summarize_programme(
            [float(r["lift_abs"]) for r, _, _ in reviews],  # type: ignore[arg-type]
            [float(r["se"]) for r, _, _ in reviews],  # type: ignore[arg-type]
            [v == "ship" for _, _, v in reviews],
        )
    out = tuple(
        ExperimentReview(
            **{k: v for k, v in r.items() if k != "se"},  # type: ignore[arg-type]
            fdr_discovery=hit,
            verdict=verdict,
        )
        for r, hit, verdict in reviews
    )
    return ProgrammeReview(q, out, tuple(skipped), summary)

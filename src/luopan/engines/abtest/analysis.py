"""One experiment, all variants: the result a report, the CLI or the API renders.

Every treatment is compared with the control by the chosen method (fixed-horizon Welch,
confidence sequence or Gaussian Bayes); the Bayesian chance to win and risk are always given;
SRM is checked against the intended split; p-values across variants are adjusted by Holm and
Benjamini-Hochberg.

References:
    See the methods' modules: frequentist, sequential, bayesian, srm, multiple.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from luopan.engines.abtest.bayesian import GaussianPrior, bayes, chance_to_be_best
from luopan.engines.abtest.frequentist import Estimate, compare
from luopan.engines.abtest.multiple import benjamini_hochberg, holm
from luopan.engines.abtest.sequential import DEFAULT_N_STAR, confidence_sequence
from luopan.engines.abtest.srm import DEFAULT_SRM_THRESHOLD, SrmResult, check_srm
from luopan.engines.abtest.stats import ArmStats, CupedStats
from luopan.errors import EngineError

__all__ = ["ExperimentResult", "VariantResult", "analyze"]

Method = Literal["frequentist", "sequential", "bayesian"]


@dataclass(frozen=True)
class VariantResult:
    """One treatment against the control."""

    variant: str
    n: int
    mean: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    p_bh: float
    chance_to_win: float
    risk_control: float
    risk_treatment: float
    chance_to_be_best: float
    significant: bool


@dataclass(frozen=True)
class ExperimentResult:
    """The whole experiment: control, variants, SRM and the settings used."""

    control: str
    control_n: int
    control_mean: float
    method: str
    relative: bool
    alpha: float
    cuped: bool
    variants: tuple[VariantResult, ...]
    srm: SrmResult

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["srm"] = asdict(self.srm) | {"flagged": self.srm.flagged}
        return out


def analyze(
    arms: Mapping[str, ArmStats],
    *,
    control: str | None = None,
    method: Method = "frequentist",
    relative: bool = True,
    alpha: float = 0.05,
    n_star: float = DEFAULT_N_STAR,
    prior: GaussianPrior | None = None,
    expected_split: Sequence[float] | None = None,
    srm_threshold: float = DEFAULT_SRM_THRESHOLD,
) -> ExperimentResult:
    """Analyse every variant of an experiment against ``control`` (first arm by default)."""
    if len(arms) < 2:
        raise EngineError(
            f"an experiment needs 2+ variants, found {list(arms)}", fix="check the variant column"
        )
    names = list(arms)
    control = control if control is not None else names[0]
    if control not in arms:
        raise EngineError(
            f"control {control!r} is not a variant ({names})",
            fix="pass --control with one of the variant names",
        )
    others = [v for v in names if v != control]
    c = arms[control]
    estimates: list[Estimate] = []
    for v in others:
        if method == "sequential":
            estimates.append(
                confidence_sequence(c, arms[v], relative=relative, alpha=alpha, n_star=n_star)
            )
        else:
            estimates.append(compare(c, arms[v], relative=relative, alpha=alpha))
    p_holm = holm([e.p_value for e in estimates])
    p_bh = benjamini_hochberg([e.p_value for e in estimates])
    plain = [a.post if isinstance(a, CupedStats) else a for a in arms.values()]
    ctb = chance_to_be_best(plain)
    best = dict(zip(names, ctb, strict=True))
    srm = check_srm([a.n for a in arms.values()], expected_split, threshold=srm_threshold)
    results = []
    for v, e, ph, pb in zip(others, estimates, p_holm, p_bh, strict=True):
        b = bayes(c, arms[v], relative=relative, alpha=alpha, prior=prior)
        if method == "bayesian":
            lo, hi, p, sig = (
                b.ci_low,
                b.ci_high,
                e.p_value,
                b.chance_to_win > 1 - alpha / 2 or (b.chance_to_win < alpha / 2),
            )
            est = b.posterior_mean
        else:
            lo, hi, p, sig, est = e.ci_low, e.ci_high, e.p_value, e.significant, e.estimate
        results.append(
            VariantResult(
                v,
                arms[v].n,
                arms[v].mean,
                est,
                lo,
                hi,
                p,
                ph,
                pb,
                b.chance_to_win,
                b.risk_control,
                b.risk_treatment,
                best[v],
                bool(sig),
            )
        )
    return ExperimentResult(
        control,
        c.n,
        c.mean,
        method,
        relative,
        alpha,
        isinstance(c, CupedStats),
        tuple(results),
        srm,
    )

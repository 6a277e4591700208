"""Guardrails with non-inferiority margins and an explicit ship rule.

Ship only when the primary metric is superior (its interval excludes 0 in the good direction)
AND every guardrail is non-inferior: the one-sided interval of its lift excludes a harm larger
than its margin (e.g. refund rate may not rise by more than 2%). Roll back when the primary is
significantly worse or a guardrail is significantly harmed beyond its margin; otherwise keep
running (or stop for futility at the planned horizon).

References:
    Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the power
    approach for assessing the equivalence of average bioavailability. J. Pharmacokinet.
    Biopharm. 15, 657-680 (one-sided tests against a margin).
    Kohavi, R., Tang, D., Xu, Y. (2020). Trustworthy Online Controlled Experiments, ch. 21
    (guardrail metrics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from luopan.engines.abtest.frequentist import compare
from luopan.engines.abtest.stats import ArmStats

__all__ = ["Decision", "GuardrailCheck", "check_guardrail", "ship_rule"]

Verdict = Literal["ship", "rollback", "keep_running"]


@dataclass(frozen=True)
class GuardrailCheck:
    """One guardrail: its lift, one-sided bound and whether it is non-inferior."""

    name: str
    estimate: float
    bound: float
    margin: float
    p_value: float
    non_inferior: bool
    harmed: bool


def check_guardrail(
    name: str,
    control: ArmStats,
    treatment: ArmStats,
    *,
    margin: float,
    higher_is_better: bool = True,
    alpha: float = 0.05,
) -> GuardrailCheck:
    """Non-inferiority test of a relative lift against ``margin`` (> 0, e.g. 0.02 = 2%).

    For a metric where higher is better, H0: lift ≤ -margin vs H1: lift > -margin; the guardrail
    is non-inferior when H0 is rejected at ``alpha``. It is harmed when the two-sided interval
    lies entirely beyond the margin.
    """
    if higher_is_better:
        est = compare(control, treatment, alpha=alpha, alternative="greater", null=-margin)
        two = compare(control, treatment, alpha=alpha)
        return GuardrailCheck(
            name,
            est.estimate,
            est.ci_low,
            margin,
            est.p_value,
            est.p_value < alpha,
            two.ci_high < -margin,
        )
    est = compare(control, treatment, alpha=alpha, alternative="less", null=margin)
    two = compare(control, treatment, alpha=alpha)
    return GuardrailCheck(
        name,
        est.estimate,
        est.ci_high,
        margin,
        est.p_value,
        est.p_value < alpha,
        two.ci_low > margin,
    )


@dataclass(frozen=True)
class Decision:
    """The verdict with its reasons (keys of the reason labels, rendered by the surfaces)."""

    verdict: Verdict
    reasons: tuple[str, ...]
    guardrails: tuple[GuardrailCheck, ...]


def ship_rule(
    primary_ci: tuple[float, float],
    guardrails: Sequence[GuardrailCheck] = (),
    *,
    higher_is_better: bool = True,
) -> Decision:
    """Ship iff the primary is superior and every guardrail non-inferior.

    Args:
        primary_ci: interval of the primary metric's lift (fixed or sequential).
        guardrails: results of :func:`check_guardrail`.
        higher_is_better: direction of the primary metric.
    """
    lo, hi = primary_ci
    superior = lo > 0 if higher_is_better else hi < 0
    worse = hi < 0 if higher_is_better else lo > 0
    reasons: list[str] = []
    harmed = [g.name for g in guardrails if g.harmed]
    unproven = [g.name for g in guardrails if not g.non_inferior]
    if worse:
        reasons.append("primary_worse")
    if harmed:
        reasons.append("guardrail_harmed:" + ",".join(harmed))
    if worse or harmed:
        return Decision("rollback", tuple(reasons), tuple(guardrails))
    if superior and not unproven:
        return Decision("ship", ("primary_superior", "guardrails_non_inferior"), tuple(guardrails))
    if not superior:
        reasons.append("primary_not_significant")
    if unproven:
        reasons.append("guardrail_not_proven:" + ",".join(unproven))
    return Decision("keep_running", tuple(reasons), tuple(guardrails))

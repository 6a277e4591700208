"""Experiments (A/B 测试): plan, assign, analyse and govern tests on sufficient statistics.

Pure functions: statistics in, frozen results out; no files, clock or printing. Numbers agree
with GrowthBook's gbstats to machine precision on the reference cases (see the tests). Written
here rather than depending on gbstats because gbstats pins pandas < 2 and lacks what a programme
of tests needs (non-inferiority guardrails, sequential SRM, online FDR, shrinkage, two-tailed
winsorisation, post-stratification outside its app).

Modules: ``stats`` (sufficient statistics), ``frequentist``, ``sequential``, ``bayesian``,
``srm``, ``multiple``, ``robust`` (quantiles, winsorising), ``poststrat``, ``design``,
``assignment``, ``decision``, ``interaction``, ``programme``, ``aggregate`` (warehouse → statistics),
``analysis`` (one experiment, all variants).
"""

from __future__ import annotations

from luopan.engines.abtest.aggregate import ibis_sufficient_stats, stats_from_frame
from luopan.engines.abtest.analysis import ExperimentResult, VariantResult, analyze
from luopan.engines.abtest.assignment import ExperimentSlot, Layer, assign, bucket
from luopan.engines.abtest.bayesian import BayesResult, GaussianPrior, bayes, chance_to_be_best
from luopan.engines.abtest.decision import Decision, GuardrailCheck, check_guardrail, ship_rule
from luopan.engines.abtest.design import (
    HistoryMoments,
    Plan,
    design_effect,
    history_moments,
    mde,
    plan,
    power,
    sample_size,
)
from luopan.engines.abtest.frequentist import (
    Effect,
    Estimate,
    compare,
    effect,
    fieller_ci,
    log_ratio_ci,
)
from luopan.engines.abtest.interaction import Interaction, interaction
from luopan.engines.abtest.multiple import (
    benjamini_hochberg,
    e_bh,
    holm,
    lond,
    lord_plus_plus,
)
from luopan.engines.abtest.poststrat import post_stratify
from luopan.engines.abtest.programme import (
    ProgrammeSimulation,
    ProgrammeSummary,
    shrink,
    simulate_programme,
    summarize_programme,
)
from luopan.engines.abtest.robust import QuantileStats, Robustness, robustness, winsorize
from luopan.engines.abtest.sequential import DEFAULT_N_STAR, confidence_sequence, msprt
from luopan.engines.abtest.srm import SrmResult, check_srm, sequential_srm
from luopan.engines.abtest.stats import (
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioStats,
    pooled_theta,
)

__all__ = [
    "DEFAULT_N_STAR",
    "BayesResult",
    "CupedStats",
    "Decision",
    "Effect",
    "Estimate",
    "ExperimentResult",
    "ExperimentSlot",
    "GaussianPrior",
    "GuardrailCheck",
    "HistoryMoments",
    "Interaction",
    "Layer",
    "MeanStats",
    "Plan",
    "ProgrammeSimulation",
    "ProgrammeSummary",
    "ProportionStats",
    "QuantileStats",
    "RatioStats",
    "Robustness",
    "SrmResult",
    "VariantResult",
    "analyze",
    "assign",
    "bayes",
    "benjamini_hochberg",
    "bucket",
    "chance_to_be_best",
    "check_guardrail",
    "check_srm",
    "compare",
    "confidence_sequence",
    "design_effect",
    "e_bh",
    "effect",
    "fieller_ci",
    "history_moments",
    "holm",
    "interaction",
    "ibis_sufficient_stats",
    "log_ratio_ci",
    "lond",
    "lord_plus_plus",
    "mde",
    "msprt",
    "plan",
    "pooled_theta",
    "post_stratify",
    "power",
    "robustness",
    "sample_size",
    "sequential_srm",
    "shrink",
    "ship_rule",
    "simulate_programme",
    "stats_from_frame",
    "summarize_programme",
    "winsorize",
]

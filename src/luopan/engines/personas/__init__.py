"""Personas: per-segment customer profiles with distinguishing traits ranked by lift."""

from luopan.engines.personas.profile import (
    TRAIT_LABELS,
    VALUE_LABELS,
    PersonaResult,
    persona_profiles,
)
from luopan.engines.personas.traits import TRAITS, customer_traits

__all__ = [
    "TRAITS",
    "TRAIT_LABELS",
    "VALUE_LABELS",
    "PersonaResult",
    "customer_traits",
    "persona_profiles",
]

"""The synthetic retail world (鲜丰生鲜) with planted incidents and a ground-truth manifest.

``generate(out_dir)`` writes every source as its system exports it (dirt included), a
``luopan.yaml`` that ingests them all, and ``ground_truth.json`` (see ``GROUND_TRUTH.md``).
"""

from luopan.demo.generate import generate
from luopan.demo.truth import GroundTruth

__all__ = ["GroundTruth", "generate"]

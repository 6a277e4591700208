"""The constructor-parameters convention the replenishment estimators share."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["Params"]


class Params:
    """``get_params()``: the constructor's arguments as stored on the object (scikit-learn's
    convention; each estimator keeps every argument under its own name)."""

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

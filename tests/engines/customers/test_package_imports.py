"""The customer package loads its modules on first use: the health index (every `luopan run`)
does not pay for scikit-learn and SciPy, and every public name still resolves."""

from __future__ import annotations

import subprocess
import sys


def test_the_health_index_does_not_import_scikit_learn() -> None:
    code = (
        "import sys, luopan.engines.customers.health as h; "
        "print(h.health_index.__name__, 'sklearn' in sys.modules, 'scipy.optimize' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["health_index", "False", "False"]


def test_every_public_name_resolves_to_its_module() -> None:
    import luopan.engines.customers as pkg
    from luopan.engines.customers.churn import ChurnModel
    from luopan.engines.customers.rfm import SEGMENTS

    assert sorted(pkg.__all__) == sorted(pkg._MODULE)
    for name in pkg.__all__:
        obj = getattr(pkg, name)
        assert obj is getattr(sys.modules[f"luopan.engines.customers.{pkg._MODULE[name]}"], name)
    assert pkg.ChurnModel is ChurnModel and pkg.SEGMENTS is SEGMENTS
    try:
        pkg.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")

"""Every label a cockpit page or report asks for exists in zh and en (a missing key is a bug)."""

from __future__ import annotations

import re
from pathlib import Path

from luopan.api.users import ROLES
from luopan.cockpit.labels import LABELS, t, t_or
from luopan.decisions.store import ACTION_STATUSES, INCIDENT_STATUSES
from luopan.metrics.scorecard import PERSPECTIVES

SRC = Path(__file__).parents[2] / "src" / "luopan"


def test_every_label_has_both_languages() -> None:
    for key, text in LABELS.items():
        assert set(text) == {"zh", "en"} and text["zh"] and text["en"], key
    assert t("scorecard", "zh") == "平衡计分卡" and t("scorecard", "en") == "balanced scorecard"
    assert t_or("sev_unknown", "unknown", "en") == "unknown"


def test_templates_and_pages_use_only_known_labels() -> None:
    used: set[str] = set()
    files = [
        *SRC.glob("cockpit/templates/*.html"),
        *SRC.glob("cockpit/pages/*.py"),
        *SRC.glob("cockpit/*.py"),
        *SRC.glob("reports/templates/*.html"),
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\s*['\"]([a-z_]+)['\"]\s*\)", text))
        used |= set(re.findall(r"pg\.t\(\s*['\"]([a-z_]+)['\"]\s*\)", text))
    assert len(used) > 100
    # labels built from data values in the templates
    used |= {f"persp_{p}" for p in PERSPECTIVES}
    used |= {f"st_{s}" for s in (*INCIDENT_STATUSES, *ACTION_STATUSES)}
    used |= {f"role_{r}" for r in ROLES}
    used |= {f"compare_{c}" for c in ("pop", "yoy", "festival")}
    used |= {"red", "amber", "green", "none", "contact", "holdout", "week", "month"}
    missing = sorted(k for k in used if k not in LABELS)
    assert missing == []

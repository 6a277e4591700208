"""Which presets and canonical tables a header row is offered."""

from __future__ import annotations

from luopan.ingest.detect import detect_headers
from luopan.tables import TABLES


def test_a_canonical_file_is_not_claimed_by_a_preset_it_only_matches_by_canonical_names():
    # every mention preset resolves on canonical names too; its constants (platform) would
    # overwrite the file's own values, so only the canonical table may be offered
    headers = tuple(c.name for c in TABLES["mentions"].columns)
    found = detect_headers(headers)
    assert [(c.kind, c.name) for c in found] == [("table", "mentions")]


def test_a_preset_export_is_still_detected_by_its_own_headers():
    headers = (
        "订单号",
        "买家会员名",
        "订单创建时间",
        "订单付款时间",
        "买家实际支付金额",
        "订单状态",
    )
    found = detect_headers(headers)
    assert found and found[0].kind == "preset"

"""luopan.yaml parsing: strict keys, errors with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from luopan.config import load_config
from luopan.errors import ConfigError
from luopan.workspace import Workspace, init_workspace


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "luopan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_writes_a_valid_commented_config(tmp_path: Path) -> None:
    path = init_workspace(tmp_path / "ws", name="鲜丰")
    text = path.read_text(encoding="utf-8")
    assert "# " in text and "Asia/Shanghai" in text and "业务时区" in text
    cfg = load_config(path)
    assert (cfg.name, cfg.timezone, cfg.currency, cfg.sources) == (
        "鲜丰",
        "Asia/Shanghai",
        "CNY",
        [],
    )
    ws = Workspace.open(tmp_path / "ws")
    assert ws.warehouse_path == (tmp_path / "ws" / "warehouse.duckdb").resolve()
    with pytest.raises(ConfigError, match="already exists"):
        init_workspace(tmp_path / "ws")


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ("name: x\ntimezon: Asia/Shanghai\n", 2, "timezon", "unknown key"),
        ("name: x\ntimezone: Mars/Base\n", 2, "timezone", "unknown timezone"),
        (
            "name: x\nsources:\n  - name: a\n    path: a.csv\n    preset: nope\n",
            3,
            "sources.0",
            "unknown preset",
        ),
        (
            "name: x\nsources:\n  - name: a\n    path: a.csv\n    table: orders\n    colums: {}\n",
            6,
            "sources.0.colums",
            "unknown key",
        ),
        (
            "name: x\nsources:\n  - name: a\n    path: a.csv\n    url: postgresql://h/db\n"
            "    table: orders\n",
            3,
            "sources.0",
            "exactly one of path",
        ),
        (
            "name: x\nsources:\n  - {name: a, path: a.csv, table: orders}\n"
            "  - {name: a, path: b.csv, table: orders}\n",
            2,
            "sources",
            "used twice",
        ),
        ("name: x\nwarehouse: sqlite:///x.db\n", 2, "warehouse", "duckdb:///"),
        (
            "name: x\nsources:\n  - name: a\n    path: a.csv\n    table: orders\n"
            "    late_after_hours: -3\n",
            6,
            "sources.0.late_after_hours",
            "greater than 0",
        ),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, text, line, key, words) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: key `{key}`"), message
    assert words in message


def test_invalid_yaml_points_at_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsources: [\n  - a: b\n")
    with pytest.raises(ConfigError, match=rf"{path.name}:\d+:\d+: not valid YAML"):
        load_config(path)


def test_missing_config_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "luopan.yaml")
    assert info.value.fix is not None and "luopan init" in info.value.fix


def test_pii_salt_comes_from_env_or_a_private_key_file(tmp_path: Path, monkeypatch) -> None:
    init_workspace(tmp_path)
    monkeypatch.delenv("LUOPAN_PII_SALT", raising=False)
    ws = Workspace.open(tmp_path)
    salt = ws.salt
    key = tmp_path / ".luopan" / "pii_salt"
    assert len(salt) == 64 and key.read_text() == salt
    assert key.stat().st_mode & 0o777 == 0o600
    assert Workspace.open(tmp_path).salt == salt
    monkeypatch.setenv("LUOPAN_PII_SALT", "from-env")
    assert Workspace.open(tmp_path).salt == "from-env"

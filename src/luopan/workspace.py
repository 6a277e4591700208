"""A workspace: the folder holding luopan.yaml, the warehouse, quarantine and secrets.

``init_workspace`` writes a commented ``luopan.yaml``. The PII salt comes from the environment
(``LUOPAN_PII_SALT``) when set, else from a per-workspace key file created with mode 0600 at
first use; it never enters the warehouse or the config.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from luopan.config import CONFIG_FILE, WorkspaceConfig, expand_env, load_config
from luopan.errors import ConfigError

__all__ = ["Workspace", "init_workspace"]

SALT_ENV = "LUOPAN_PII_SALT"

_TEMPLATE = """\
# luopan workspace — 罗盘工作区配置
# Every key is documented in the config reference; unknown keys are rejected.
# 所有配置项见配置参考文档；未知的键会被拒绝。

name: {name}                  # 品牌或工作区名称 / brand or workspace name
timezone: Asia/Shanghai       # 业务时区：所有时间按此时区存储 / business timezone for all timestamps
currency: CNY                 # 金额币种 / currency of amounts
language: zh                  # 界面与报告语言 zh|en / language of labels and reports
warehouse: duckdb:///warehouse.duckdb   # 嵌入式仓库（相对工作区）/ embedded warehouse file
# metadata: sqlite:///.luopan/metadata.sqlite   # 决策日志 / decision log (或 postgresql://…)

# 数据源：平台导出文件（preset 无需手写映射）、通用映射文件，或数据库（ERP/CRM）。
# Sources: platform exports (a preset needs no mapping), generic mappings, or databases.
sources: []
#  - name: tmall_orders                      # 唯一名称 / unique name
#    path: exports/tmall/ExportOrderList*.csv   # 文件或通配符 / file or glob
#    preset: tmall_orders                    # `luopan sources presets` 列出全部 / lists all
#    late_after_hours: 48                    # 超过此时长无新数据即告警 / freshness threshold
#  - name: erp_products
#    url: postgresql://erp@db.internal/erp   # 密码请用 ${{ERP_PASSWORD}} 环境变量 / secrets via ${{ENV}}
#    query: SELECT sku, name, category, cost FROM items
#    table: products
#    columns: {{unit_cost: cost}}             # 规范列: 源列名 / canonical column: source header
"""


def init_workspace(directory: Path, *, name: str | None = None, force: bool = False) -> Path:
    """Create a workspace folder with a commented luopan.yaml; returns the config path."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / CONFIG_FILE
    if config.exists() and not force:
        raise ConfigError(
            f"{config} already exists", fix="use another folder or pass --force to overwrite"
        )
    config.write_text(_TEMPLATE.format(name=name or directory.resolve().name), encoding="utf-8")
    (directory / "quarantine").mkdir(exist_ok=True)
    return config


@dataclass
class Workspace:
    """An opened workspace."""

    root: Path

    @classmethod
    def open(cls, root: Path) -> Workspace:
        ws = cls(root.resolve())
        _ = ws.config
        return ws

    @cached_property
    def config(self) -> WorkspaceConfig:
        return load_config(self.root / CONFIG_FILE)

    @property
    def warehouse_path(self) -> Path:
        url = self.config.warehouse
        if not url.startswith("duckdb://"):
            raise ConfigError(
                f"warehouse {url!r} is not an embedded DuckDB file",
                fix="ingest writes to duckdb:///FILE; mirror to Spark with luopan.warehouse.spark",
            )
        raw = url.removeprefix("duckdb://")
        path = Path(raw[1:]) if raw.startswith("/") and not raw.startswith("//") else Path(raw)
        if raw.startswith("//"):
            path = Path(raw[1:])
        return path if path.is_absolute() else self.root / path

    @property
    def metadata_url(self) -> str:
        """SQLAlchemy URL of the metadata store; a relative SQLite path is under the root."""
        url = expand_env(self.config.metadata, what="the metadata store URL (metadata:)")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = self.root / url.removeprefix("sqlite:///")
            path.parent.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{path}"
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @cached_property
    def salt(self) -> str:
        env = os.environ.get(SALT_ENV)
        if env:
            return env
        key = self.root / ".luopan" / "pii_salt"
        if not key.exists():
            key.parent.mkdir(exist_ok=True)
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return key.read_text().strip()

"""``luopan users add|list|disable|token``: the accounts of the web cockpit and REST API."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from luopan.cli.common import WORKSPACE_OPTION, open_workspace
from luopan.errors import ConfigError

console = Console()

_L = {
    "user": {"zh": "用户", "en": "user"},
    "role": {"zh": "角色", "en": "role"},
    "scope": {"zh": "数据范围", "en": "scope"},
    "state": {"zh": "状态", "en": "state"},
    "all": {"zh": "全部", "en": "all"},
    "active": {"zh": "启用", "en": "active"},
    "disabled": {"zh": "已停用", "en": "disabled"},
    "added": {"zh": "已创建用户", "en": "user created"},
    "done_disable": {
        "zh": "已停用用户（会话与令牌已失效）",
        "en": "user disabled (sessions and tokens revoked)",
    },
    "token": {
        "zh": "API 令牌（只显示这一次，请妥善保存）",
        "en": "API token (shown once; keep it safe)",
    },
}


def _l(key: str, lang: str) -> str:
    return _L[key][lang]


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def _password(env: str | None, stdin: bool) -> str:
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise ConfigError(
                f"environment variable {env} is not set or empty",
                fix=f"export {env}=... before running, or use --password-stdin",
            )
        return value
    if stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise ConfigError("no password on standard input", fix="pipe the password in")
        return value
    if not sys.stdin.isatty():
        raise ConfigError(
            "no password given",
            fix="pass --password-env VAR or --password-stdin when not at a terminal",
        )
    return str(typer.prompt("password / 密码", hide_input=True, confirmation_prompt=True))


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(
        help="Users of the cockpit and API: roles and row-level scopes. 驾驶舱与 API 用户。",
        no_args_is_help=True,
    )
    app.add_typer(users_app, name="users")

    @users_app.command("add")
    def add(
        name: str = typer.Argument(..., help="user name / 用户名"),
        role: str = typer.Option("viewer", "--role", help="admin|analyst|viewer / 角色"),
        stores: str | None = typer.Option(
            None, "--stores", help="S1,S2: only these stores / 仅限门店"
        ),
        regions: str | None = typer.Option(None, "--regions", help="only these regions / 仅限大区"),
        categories: str | None = typer.Option(
            None, "--categories", help="only these categories / 仅限品类"
        ),
        password_env: str | None = typer.Option(
            None, "--password-env", help="read the password from this env var / 从环境变量读取密码"
        ),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="read the password from stdin / 从标准输入读取密码"
        ),
        replace: bool = typer.Option(False, "--replace", help="overwrite an existing user / 覆盖"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Create a user (argon2-hashed password; prompts when at a terminal). 创建用户。

        Example / 示例: luopan users add east_manager --role viewer --regions 华东 -w demo-world
        """
        from luopan.api.users import add_user

        ws, lang = open_workspace(workspace)
        password = _password(password_env, password_stdin)
        user = add_user(
            ws,
            name,
            password=password,
            role=role,
            stores=_split(stores),
            regions=_split(regions),
            categories=_split(categories),
            replace=replace,
        )
        console.print(f"{_l('added', lang)}: {user.username} ({user.role})", highlight=False)

    @users_app.command("list")
    def list_cmd(
        as_json: bool = typer.Option(False, "--json", help="JSON for scripts / 输出 JSON"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """List users with role, scope and state. 列出用户。

        Example / 示例: luopan users list -w demo-world
        """
        from luopan.api.users import list_users

        ws, lang = open_workspace(workspace)
        users = list_users(ws)
        if as_json:
            rows = [
                {
                    "username": u.username,
                    "role": u.role,
                    "stores": sorted(u.stores) if u.stores is not None else None,
                    "regions": sorted(u.regions) if u.regions is not None else None,
                    "categories": sorted(u.categories) if u.categories is not None else None,
                    "disabled": u.disabled,
                }
                for u in users
            ]
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table(_l("user", lang), _l("role", lang), _l("scope", lang), _l("state", lang))
        for u in users:
            parts = [
                f"{k}={','.join(sorted(v))}"
                for k, v in (
                    ("stores", u.stores),
                    ("regions", u.regions),
                    ("categories", u.categories),
                )
                if v is not None
            ]
            table.add_row(
                u.username,
                u.role,
                "; ".join(parts) or _l("all", lang),
                _l("disabled" if u.disabled else "active", lang),
            )
        console.print(table)

    @users_app.command("disable")
    def disable(
        name: str = typer.Argument(..., help="user name / 用户名"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Disable a user and revoke their sessions and tokens. 停用用户。

        Example / 示例: luopan users disable east_manager -w demo-world
        """
        from luopan.api.users import disable_user

        ws, lang = open_workspace(workspace)
        disable_user(ws, name)
        console.print(f"{_l('done_disable', lang)}: {name}", highlight=False)

    @users_app.command("token")
    def token(
        name: str = typer.Argument(..., help="user name / 用户名"),
        label: str = typer.Option("api", "--label", help="what the token is for / 令牌用途"),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Issue an API token (Authorization: Bearer …) for a user. 签发 API 令牌。

        Example / 示例: luopan users token ops_bot -w demo-world
        """
        from luopan.api.users import issue_token

        ws, lang = open_workspace(workspace)
        value = issue_token(ws, name, label=label)
        err = Console(stderr=True)
        err.print(_l("token", lang), highlight=False)
        typer.echo(value)

"""The ``luopan`` command line: one Typer app, one module per command group.

``COMMANDS`` maps each top-level command to the module that registers it, so running a command
imports only its own module (the engines behind other commands stay unloaded: a command starts
in a fraction of a second). Listing the help, or ``from luopan.cli.main import app``, registers
them all. A test keeps ``COMMANDS`` and the modules in agreement.

Errors are printed as their message (with the fix) and exit with status 1; ``--debug`` shows
the traceback. Labels follow the workspace language (zh by default; LUOPAN_LANG=en).
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from luopan import __version__
from luopan.errors import LuopanError

_app = typer.Typer(
    name="luopan",
    help=(
        "luopan (罗盘): the operations hub for retail brands — 零售品牌智能运营中枢.\n\n"
        "Example / 示例: luopan demo demo-world && luopan run -w demo-world"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


@_app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="show tracebacks / 显示调用栈"),
) -> None:
    _state["debug"] = debug


@_app.command()
def version() -> None:
    """Print the version. 显示版本号。

    Example / 示例: luopan version
    """
    console.print(f"luopan {__version__}")


# top-level command -> module of luopan.cli that registers it
COMMANDS: dict[str, str] = {
    "abtest": "abtest",
    "clv": "clv",
    "community": "funnels",
    "content": "funnels",
    "crisis": "crisis",
    "customers": "customers",
    "decisions": "decisions",
    "demo": "demo",
    "docs": "docs",
    "forecast": "replenish",
    "funnel": "funnels",
    "ingest": "ingest",
    "init": "workspace",
    "lifecycle": "funnels",
    "listening": "listening",
    "metrics": "metrics",
    "notify": "notify",
    "personas": "personas",
    "pricing": "pricing",
    "promo": "pricing",
    "rca": "rca",
    "recommend": "recommend",
    "recommend-eval": "recommend",
    "replenish": "replenish",
    "report": "report",
    "retention": "funnels",
    "run": "run",
    "scorecard": "metrics",
    "sources": "ingest",
    "sql": "sql",
    "status": "status",
    "tree": "metrics",
    "serve": "serve",
    "users": "users",
    "watch": "watch",
}
_registered: set[str] = set()


def _register(modules: list[str] | None = None) -> typer.Typer:
    """Register the given command modules (default: all of them), each once."""
    import importlib

    for name in sorted(set(COMMANDS.values()) if modules is None else modules):
        if name in _registered:
            continue
        importlib.import_module(f"luopan.cli.{name}").register(_app)
        _registered.add(name)
    return _app


def __getattr__(name: str) -> typer.Typer:  # PEP 562: ``app`` has every command
    if name == "app":
        return _register()
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args if not a.startswith("-")), None)
    before = args[: args.index(command)] if command is not None else args
    if command == "version":
        needed: list[str] | None = []
    elif command in COMMANDS and "--help" not in before:
        needed = [COMMANDS[command]]
    else:  # the command list, or an unknown command whose error lists them all
        needed = None
    try:
        _register(needed)
        _app(args=args, standalone_mode=False)
    except LuopanError as exc:
        if _state["debug"]:
            raise
        err_console.print(f"[bold red]error / 错误:[/] {exc.message}", highlight=False)
        if exc.fix:
            err_console.print(f"[bold]fix / 解决办法:[/] {exc.fix}", highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click usage errors (typer vendors click; duck-typed)
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise

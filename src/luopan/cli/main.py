"""The ``luopan`` command line: one Typer app, one module per command group.

Errors are printed as their message (with the fix) and exit with status 1; ``--debug`` shows
the traceback. Labels follow the workspace language (zh by default; LUOPAN_LANG=en).
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from luopan import __version__
from luopan.errors import LuopanError

app = typer.Typer(
    name="luopan",
    help="luopan (罗盘): the operations hub for retail brands — 零售品牌智能运营中枢.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="show tracebacks / 显示调用栈"),
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the version. 显示版本号。"""
    console.print(f"luopan {__version__}")


def _register() -> None:
    """Register every command module of this package: a module with ``register(app)``.

    Adding a command group is adding a module; nothing here changes.
    """
    import importlib
    import pkgutil

    import luopan.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in ("main", "common") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"luopan.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, standalone_mode=False)
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

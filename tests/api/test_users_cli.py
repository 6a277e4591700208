"""``luopan users add|list|disable|token`` (non-interactive passwords) and ``luopan serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luopan.cli.main import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_add_list_disable_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from luopan.api.users import UserStore
    from luopan.workspace import Workspace, init_workspace

    init_workspace(tmp_path)
    w = ["-w", str(tmp_path)]
    monkeypatch.setenv("DEMO_PW", "luopan-demo")
    code, _, err = _run(
        ["users", "add", "demo", "--role", "admin", "--password-env", "DEMO_PW", *w], capsys
    )
    assert code == 0, err
    code, _, _ = _run(
        [
            "users",
            "add",
            "mgr",
            "--role",
            "viewer",
            "--stores",
            "S1, S2",
            "--password-env",
            "DEMO_PW",
            *w,
        ],
        capsys,
    )
    assert code == 0
    code, out, _ = _run(["users", "list", "--json", *w], capsys)
    rows = {r["username"]: r for r in json.loads(out)}
    assert rows["demo"]["role"] == "admin" and rows["demo"]["stores"] is None
    assert rows["mgr"]["stores"] == ["S1", "S2"] and not rows["mgr"]["disabled"]
    store = UserStore(Workspace.open(tmp_path).metadata_url, cache_seconds=0)
    try:
        assert store.verify("demo", "luopan-demo") is not None
        assert store.verify("demo", "wrong-password") is None
        code, out, _ = _run(["users", "token", "demo", *w], capsys)
        token = out.strip()
        assert code == 0 and token.startswith("lp_")
        assert store.user_for_token(token) is not None
        code, _, _ = _run(["users", "disable", "demo", *w], capsys)
        assert code == 0
        assert store.user_for_token(token) is None
        assert store.verify("demo", "luopan-demo") is None
    finally:
        store.close()
    # the same name twice is an error with a fix; --replace overwrites
    code, _, err = _run(["users", "add", "mgr", "--password-env", "DEMO_PW", *w], capsys)
    assert code == 1 and "--replace" in err


def test_users_add_refuses_missing_or_weak_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from luopan.workspace import init_workspace

    init_workspace(tmp_path)
    w = ["-w", str(tmp_path)]
    monkeypatch.delenv("NOPE_PW", raising=False)
    code, _, err = _run(["users", "add", "x", "--password-env", "NOPE_PW", *w], capsys)
    assert code == 1 and "NOPE_PW" in err
    monkeypatch.setenv("SHORT_PW", "short")
    code, _, err = _run(["users", "add", "x", "--password-env", "SHORT_PW", *w], capsys)
    assert code == 1 and "8 characters" in err
    monkeypatch.setenv("OK_PW", "long enough")
    code, _, err = _run(
        ["users", "add", "x", "--role", "boss", "--password-env", "OK_PW", *w], capsys
    )
    assert code == 1 and "admin, analyst, viewer" in err
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("from stdin 123\n"))
    code, _, err = _run(["users", "add", "y", "--password-stdin", *w], capsys)
    assert code == 0, err


def test_serve_help_lists_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["serve", "--help"], capsys)
    assert code == 0
    for option in ("--host", "--port", "--secure-cookies", "--workspace"):
        assert option in out

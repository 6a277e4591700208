"""The first-hour tutorial runs as written, on the shipped sample exports (docs/first-hour*.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from docs_tutorial import missing_lines, parse, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "first-hour"


def _env(tmp_path: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "COLUMNS": "120",
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        **{k: os.environ[k] for k in ("TMPDIR",) if k in os.environ},
    }


def _tutorial(page: str, tmp_path: Path) -> None:
    steps = parse((ROOT / "docs" / page).read_text(encoding="utf-8"))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    results = run(steps, tmp_path, _env(tmp_path))
    problems = [
        f"`{r.command}` did not print:\n  "
        + "\n  ".join(r.missing)
        + f"\n--- it printed:\n{r.output}"
        for r in results
        if r.missing
    ]
    assert not problems, "\n\n".join(problems)
    inbox = (tmp_path / "wecom-inbox.md").read_text(encoding="utf-8")
    assert inbox.count("----- markdown -----") == 2  # the test message and one alert, no repeat


@pytest.mark.slow
def test_first_hour_zh_runs_as_written(tmp_path: Path) -> None:
    _tutorial("first-hour.md", tmp_path)


@pytest.mark.slow
def test_first_hour_en_runs_as_written(tmp_path: Path) -> None:
    _tutorial("first-hour.en.md", tmp_path)


@pytest.mark.parametrize("page", ["first-hour.md", "first-hour.en.md"])
def test_tutorial_page_has_the_steps_of_the_first_hour(page: str) -> None:
    steps = parse((ROOT / "docs" / page).read_text(encoding="utf-8"))
    commands = [s.text.split()[:3] for s in steps if s.kind == "command"]
    files = [s.path for s in steps if s.kind == "file"]
    assert files == ["my-brand/luopan.yaml", "my-brand/rules/gmv_drop.yaml", "my-brand/notify.yaml"]
    for needed in (
        ["luopan", "ingest", "-w"],
        ["luopan", "scorecard", "-w"],
        ["luopan", "run", "-w"],
        ["luopan", "notify", "test"],
    ):
        assert needed in commands, needed
    assert all(
        s.expected
        for s in steps
        if s.kind == "command"
        and s.text.startswith(
            ("luopan ingest", "luopan scorecard", "luopan run", "luopan decisions")
        )
    )


def test_shown_lines_match_in_order_with_ellipsis_wildcards() -> None:
    out = "a   b  c\n│ x │ 12 │ ok │\nlast line 3.2 s\n"
    assert missing_lines(["a b c", "│ x │ … │ ok │", "last line … s"], out) == []
    assert missing_lines(["│ x │ 13 │ ok │"], out) == ["│ x │ 13 │ ok │"]
    assert missing_lines(["last line … s", "a b c"], out) == ["a b c"]  # order matters


def test_sample_exports_are_what_the_generator_writes_and_small(tmp_path: Path) -> None:
    import importlib.util
    import shutil

    copy = tmp_path / "first-hour"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("exports", "__pycache__"))
    spec = importlib.util.spec_from_file_location("make_samples", copy / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    shipped = sorted(p.name for p in (EXAMPLES / "exports").iterdir())
    assert shipped == ["erp_products.csv", "youzan_orders_2026-11.csv"]
    for name in shipped:
        assert (copy / "exports" / name).read_bytes() == (EXAMPLES / "exports" / name).read_bytes()
    total = sum(p.stat().st_size for p in EXAMPLES.rglob("*") if p.is_file())
    assert total < 1_000_000

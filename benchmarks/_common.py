"""Helpers the benchmarks share: the machine line of a report and its RESULTS.md section.

Each benchmark owns one ``## <name> (benchmarks/<name>.py)`` section of ``RESULTS.md``: it reads
what it keeps of it with :func:`read_section` and replaces it with :func:`write_section`, which
leaves every other section as it was. A benchmark is run as a script
(``.venv/bin/python benchmarks/<name>.py``), so its folder is on ``sys.path`` and it imports
this module as ``_common``.
"""

from __future__ import annotations

import importlib
import os
import platform
from pathlib import Path

__all__ = ["machine", "read_section", "write_section"]


def _proc_field(path: str, prefix: str) -> str | None:
    """The value after ``prefix`` in a ``/proc`` file (``key: value`` lines); None off Linux."""
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except (OSError, IndexError):
        pass
    return None


def _version(module: str) -> str:
    """The module's ``__version__``; ``not installed`` for an optional one that is missing."""
    try:
        return str(importlib.import_module(module).__version__)
    except ImportError:
        return "not installed"


def machine(*packages: str) -> str:
    """One line describing this machine: CPUs (model), RAM, OS, Python and ``packages``.

    Args:
        packages: module names whose ``__version__`` is added, in this order
            (``machine("duckdb", "ibis")``); a missing one is said ``not installed``.

    Returns:
        e.g. ``2 CPUs (AMD EPYC 7B13), 7.8 GiB RAM, Linux 6.8.0, Python 3.12.3, duckdb 1.1.3``;
        the model falls back to the architecture and RAM is left out where ``/proc`` is missing.
    """
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    mem = ""
    total = _proc_field("/proc/meminfo", "MemTotal:")
    if total and total.split()[0].isdigit():
        mem = f", {int(total.split()[0]) / 1024**2:.1f} GiB RAM"
    versions = "".join(f", {name} {_version(name)}" for name in packages)
    return (
        f"{os.cpu_count()} CPUs ({cpu}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}{versions}"
    )


def _bounds(lines: list[str], section_title: str) -> tuple[int, int] | None:
    """Line range ``[start, end)`` of the section: its title line up to the next ``## ``."""
    start = next((i for i, line in enumerate(lines) if line.strip() == section_title), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def read_section(results_path: Path, section_title: str) -> str:
    """The body of a section (below its title line, blank lines around it dropped); ``""`` when
    the file or the section does not exist."""
    if not results_path.is_file():
        return ""
    lines = results_path.read_text(encoding="utf-8").split("\n")
    found = _bounds(lines, section_title)
    if found is None:
        return ""
    return "\n".join(lines[found[0] + 1 : found[1]]).strip("\n")


def write_section(results_path: Path, section_title: str, body: str) -> None:
    """Replace the section titled ``section_title`` (a ``## `` heading line) with ``body``.

    The section runs from its title line to the next ``## `` heading; the other sections stay
    as they are. A section not there yet is appended, and a missing file is created with a
    ``# Benchmarks`` heading. The section is written as its title, a blank line, ``body`` and
    a blank line before the next section.
    """
    old = results_path.read_text(encoding="utf-8") if results_path.is_file() else "# Benchmarks\n"
    lines = old.split("\n")
    section = [section_title, "", *body.strip("\n").split("\n")]
    found = _bounds(lines, section_title)
    if found is None:
        new = old.rstrip("\n") + "\n\n" + "\n".join(section)
    else:
        new = "\n".join(lines[: found[0]] + section + [""] + lines[found[1] :])
    results_path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")

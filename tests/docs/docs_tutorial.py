"""Run a tutorial page: its files and ```console blocks, in order, checking the shown output.

Conventions of a runnable page (docs/first-hour*.md):

- a fenced block whose info string has ``title="PATH"`` (e.g. ```yaml title="my-brand/luopan.yaml")
  is a file the reader writes: it is written to PATH, relative to the working folder;
- in a ```console block, a line starting with ``$ `` is a command; the lines after it, up to
  the next command, are output lines that must appear in that order in the command's output
  (stdout and stderr), compared with runs of whitespace collapsed; ``…`` in a shown line
  stands for any text;
- ``export NAME=VALUE`` and ``cd DIR`` change the environment of the following commands;
- a command ending in `` &`` starts in the background; ``kill %N`` stops the N-th of them.

Every command must exit 0. The port of the local receiver (8765 on the page) is replaced by a
free port so parallel runs cannot collide.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.S | re.M)
TITLE = re.compile(r'title="(?P<path>[^"]+)"')
PAGE_PORT = "8765"


@dataclass
class Step:
    kind: str  # "file" | "command"
    text: str  # the file's content, or the command line
    path: str = ""
    expected: list[str] = field(default_factory=list)


def parse(markdown: str) -> list[Step]:
    """The page's steps in reading order."""
    steps: list[Step] = []
    for m in FENCE.finditer(markdown):
        info, body = m.group("info").strip(), m.group("body")
        title = TITLE.search(info)
        if title:
            steps.append(Step("file", body, path=title.group("path")))
        elif info.split(" ")[0] == "console":
            for line in body.splitlines():
                if line.startswith("$ "):
                    steps.append(Step("command", line[2:].strip()))
                elif line.strip() and steps and steps[-1].kind == "command":
                    steps[-1].expected.append(line)
    return steps


def _norm(line: str) -> str:
    return " ".join(line.split())


def missing_lines(expected: list[str], output: str) -> list[str]:
    """Shown lines not found, in order, among the output's lines (``…`` = any text)."""
    actual = [_norm(x) for x in output.splitlines()]
    i = 0
    missing = []
    for shown in expected:
        parts = [re.escape(p.strip()) for p in _norm(shown).split("…")]
        pattern = re.compile(r"\s*.*?\s*".join(parts))
        j = next((k for k in range(i, len(actual)) if pattern.fullmatch(actual[k])), None)
        if j is None:
            missing.append(shown)
        else:
            i = j + 1
    return missing


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _wait_for_port(port: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if proc.poll() is not None:
            raise AssertionError(f"background command exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", int(port))) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after 10 s")


@dataclass
class Result:
    command: str
    output: str
    missing: list[str]


def run(steps: list[Step], cwd: Path, env: dict[str, str], *, timeout: float = 300) -> list[Result]:
    """Execute the steps in ``cwd``; raises AssertionError on a failing command."""
    port = _free_port()
    env = dict(env)
    background: list[subprocess.Popen[bytes]] = []
    results: list[Result] = []
    try:
        for step in steps:
            if step.kind == "file":
                path = cwd / step.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(step.text, encoding="utf-8")
                continue
            command = step.text.replace(PAGE_PORT, port)
            if command.startswith("export "):
                name, _, value = command.removeprefix("export ").partition("=")
                env[name] = shlex.split(value)[0] if value else ""
                results.append(Result(step.text, "", []))
                continue
            if command.startswith("cd "):
                cwd = cwd / shlex.split(command)[1]
                continue
            kill = re.fullmatch(r"kill %(\d+)", command)
            if kill:
                proc = background[int(kill.group(1)) - 1]
                proc.terminate()
                proc.wait(10)
                continue
            if command.endswith("&"):
                proc = subprocess.Popen(
                    ["bash", "-c", command.rstrip("&").strip()],
                    cwd=cwd,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                background.append(proc)
                _wait_for_port(port, proc)
                continue
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            output = done.stdout + done.stderr
            if done.returncode != 0:
                raise AssertionError(f"`{step.text}` exited {done.returncode}:\n{output}")
            results.append(Result(step.text, output, missing_lines(step.expected, output)))
    finally:
        for proc in background:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
    return results

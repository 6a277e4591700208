"""``luopan watch``: run the loop whenever source files land, and every N minutes.

Polling, not inotify: it works the same on a laptop, a container volume and a network share.
Every ``poll`` seconds the watcher takes a signature of the sources' files (path, size and
modification time of every file the sources' globs match); when it changes, it waits until it
has stayed the same for ``debounce`` seconds (a file still being copied keeps changing), then
runs the loop. With ``every`` minutes it also runs on that schedule when nothing landed (a rule
over the clock — a late source — needs no new file to fire).

The loop is idempotent (the decision log deduplicates incidents), so an extra run costs time,
not correctness; a run interrupted by Ctrl-C leaves the log consistent (every write is one
transaction) and the watcher returns the runs it completed. Time and the run itself are
injectable (``clock``, ``sleep``, ``run``), so tests drive the watcher without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from luopan.workspace import Workspace

__all__ = ["WatchResult", "source_signature", "watch"]

Signature = tuple[tuple[str, int, int], ...]


@dataclass
class WatchResult:
    """What the watcher did: runs completed, why each ran, and whether Ctrl-C stopped it."""

    runs: int = 0
    reasons: list[str] = field(default_factory=list)  # start | files | schedule
    interrupted: bool = False


def source_signature(ws: Workspace) -> Signature:
    """(path, size, mtime_ns) of every file the workspace's file sources match, sorted."""
    from luopan.ingest.pipeline import source_files

    entries: list[tuple[str, int, int]] = []
    for source in ws.config.sources:
        if source.path is None:
            continue
        for path in source_files(ws, source):
            try:
                st = path.stat()
            except FileNotFoundError:  # removed between the glob and the stat
                continue
            entries.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(sorted(entries))


def watch(
    ws: Workspace,
    *,
    run: Callable[[], Any],
    poll: float = 5.0,
    debounce: float = 10.0,
    every: float | None = None,
    max_runs: int | None = None,
    on_run: Callable[[str, Any], None] | None = None,
    tick: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchResult:
    """Run ``run()`` at start, when the sources' files change (debounced) and every ``every``
    minutes, until ``max_runs`` runs or Ctrl-C.

    Args:
        run: one pass of the loop (e.g. ``lambda: run_loop(ws)``); its result goes to
            ``on_run(reason, result)``.
        poll: seconds between looks at the files.
        debounce: seconds the files must stay unchanged before a run.
        every: minutes between scheduled runs (None: only on new files).
        max_runs: stop after this many runs (None: until interrupted).
        tick: called after every poll (e.g. the report schedule); not counted as a run.
    """
    result = WatchResult()

    def go(reason: str) -> None:
        out = run()
        result.runs += 1
        result.reasons.append(reason)
        if on_run is not None:
            on_run(reason, out)

    try:
        seen = source_signature(ws)
        go("start")
        last_run = clock()
        while max_runs is None or result.runs < max_runs:
            sleep(poll)
            if tick is not None:
                tick()
            now_sig = source_signature(ws)
            if now_sig != seen:
                changed_at, pending = clock(), now_sig
                while clock() - changed_at < debounce:  # wait for the copy to finish
                    sleep(min(poll, debounce))
                    latest = source_signature(ws)
                    if latest != pending:
                        changed_at, pending = clock(), latest
                seen = pending
                go("files")
                last_run = clock()
            elif every is not None and clock() - last_run >= every * 60:
                go("schedule")
                last_run = clock()
    except KeyboardInterrupt:
        result.interrupted = True
    return result

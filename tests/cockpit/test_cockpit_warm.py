"""The cache warmer: slow panels never block a request, stale values bridge a refresh, the
warm pass fills every scope's caches, and the app's lifespan starts and stops the warmer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cockpit_support import STORE, TestClient, copy_world

from luopan.cockpit.warm import Warmer
from luopan.cockpit.web import Pending, _Cache, inline


class Recorder:
    """A background runner that only records the jobs (the test runs them when it wants)."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[Any, ...], Callable[[], Any]] = {}

    def __call__(self, key: tuple[Any, ...], job: Callable[[], Any]) -> None:
        self.jobs.setdefault(key, job)

    def run(self) -> None:
        jobs, self.jobs = self.jobs, {}
        with inline():
            for job in jobs.values():
                job()


def test_cache_pending_stale_and_inline() -> None:
    cache = _Cache()
    calls: list[str] = []

    def compute(v: str) -> Callable[[], str]:
        def run() -> str:
            calls.append(v)
            return v

        return run

    fam = (("scope",), "health", ())
    # no runner: computed in the caller, as before
    assert cache.get((1, *fam), compute("one"), family=fam, slow=True) == "one"
    assert calls == ["one"]
    rec = Recorder()
    cache.runner = rec
    # a new snapshot: the old value at once, the new one handed to the runner
    assert cache.get((2, *fam), compute("two"), family=fam, slow=True) == "one"
    assert calls == ["one"] and list(rec.jobs) == [(2, *fam)]
    rec.run()
    assert calls == ["one", "two"]
    assert cache.get((2, *fam), compute("never"), family=fam, slow=True) == "two"
    # a slow value never computed: Pending, once queued however often asked
    other = (("scope",), "recall", (45,))
    for _ in range(3):
        with pytest.raises(Pending):
            cache.get((2, *other), compute("r"), family=other, slow=True)
    assert list(rec.jobs) == [(2, *other)]
    # a fast one is still computed in the request
    fast = (("scope",), "latest_day", ())
    assert cache.get((2, *fast), compute("d"), family=fast) == "d"
    # the warmer's own thread computes inline, however slow
    with inline():
        assert cache.get((3, *other), compute("r3"), family=other, slow=True) == "r3"


@contextmanager
def fresh_cache(app: Any, runner: Any) -> Iterator[_Cache]:
    """Give ``app`` an empty page cache with ``runner`` for the block (restored after)."""
    old = app.state.cockpit_cache
    app.state.cockpit_cache = cache = _Cache()
    cache.runner = runner
    try:
        yield cache
    finally:
        app.state.cockpit_cache = old


def test_slow_panels_show_computing_then_their_values(cockpit_app: Any, client_for: Any) -> None:
    boss = client_for("boss")
    rec = Recorder()
    with fresh_cache(cockpit_app, rec):
        r = boss.get("/?lang=zh")
        assert r.status_code == 200
        assert 'id="health" data-pending=1' in r.text and "计算中…" in r.text
        assert 'id="scorecard" data-pending=1' in r.text and 'id="north-star"' in r.text
        r = boss.get("/cockpit/customers?lang=en&horizon_days=60")
        assert r.status_code == 200 and "computing…" in r.text
        for panel in ("rfm", "clv", "churn", "recall"):
            assert f'id="{panel}" data-pending=1' in r.text
        assert {k[2] for k in rec.jobs} == {"health", "scorecard", "rfm", "clv", "recall"}
        rec.run()
        r = boss.get("/?lang=zh")
        assert "data-pending" not in r.text and 'id="health"' in r.text
        assert 'data-value="' in r.text.split('id="health"')[1][:400]
        r = boss.get("/cockpit/customers?lang=en&horizon_days=60")
        assert "data-pending" not in r.text and 'id="mean-clv"' in r.text
        assert not rec.jobs


def test_warm_pass_fills_every_scope(cockpit_app: Any, client_for: Any) -> None:
    """After one pass no page of the warmed views misses (a miss would answer "computing…",
    since the runner is live): the unscoped view and the store manager's scope."""
    warmer = Warmer(cockpit_app, paths=("/",), langs=("zh",))
    with fresh_cache(cockpit_app, None):
        warmer.start()
        try:
            assert warmer.wait_warm(600)
            scopes = {k[1] for k in cockpit_app.state.cockpit_cache.items if k[2] == "health"}
            assert scopes == {(None, None, None), ((STORE,), None, None)}
            for user in ("boss", "shop"):
                for url in ("/?lang=zh",):
                    r = client_for(user).get(url)
                    assert r.status_code == 200 and "data-pending" not in r.text, (user, url)
        finally:
            warmer.stop()
    assert warmer.thread is None and cockpit_app.state.cockpit_cache.runner is None


def test_lifespan_starts_and_stops_the_warmer(cockpit_world: Any, tmp_path: Any) -> None:
    from luopan.api.app import create_app
    from luopan.workspace import Workspace

    ws, _ = cockpit_world
    root = copy_world(ws.root, tmp_path / "ws")
    app = create_app(Workspace.open(root).root)
    warmer = app.state.cockpit_warmer
    warmer.paths = ("/cockpit/incidents",)  # a cheap pass: the hook is what is tested
    with TestClient(app) as client:
        assert warmer.thread is not None and warmer.thread.is_alive()
        assert app.state.cockpit_cache.runner == warmer.submit
        assert warmer.wait_warm(120) and warmer.passes == 1
        assert client.get("/health").json() == {"status": "ok"}
    assert warmer.thread is None and app.state.cockpit_cache.runner is None


def test_lifespan_waits_for_the_first_warm_pass(cockpit_world: Any, tmp_path: Any) -> None:
    """``luopan serve --warm-wait``: the app starts serving only after one warm pass, so the
    first request finds warm caches; with no warehouse the wait returns at once."""
    from luopan.api.app import create_app
    from luopan.workspace import Workspace

    ws, _ = cockpit_world
    root = copy_world(ws.root, tmp_path / "ws")
    app = create_app(Workspace.open(root).root)
    app.state.cockpit_warm_wait = 120.0
    warmer = app.state.cockpit_warmer
    warmer.paths = ("/cockpit/incidents",)
    with TestClient(app) as client:
        assert warmer.passes == 1  # done before the first request could be served
        assert client.get("/health").json() == {"status": "ok"}

    empty = create_app(Workspace.open(root).root)
    empty.state.cockpit_warmer._snapshot = lambda: None  # as before the first ingest
    assert empty.state.cockpit_warmer.wait_warm(120) is False
    assert empty.state.cockpit_warmer.passes == 0

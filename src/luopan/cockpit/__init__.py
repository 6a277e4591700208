"""The cockpit (数据驾驶舱): server-rendered pages over the scoped API services.

``mount(app)`` adds the page routes (``/`` and ``/cockpit/...``) and the cockpit's static
files (``/cockpit/static``) to the FastAPI app built by ``luopan.api.app.create_app``. Pages
hold no business logic: they read through ``luopan.api.deps`` (so row-level scopes apply),
hand the rows to the engines as the CLI does, and render Jinja2 templates with plotly charts
drawn by the plotly.js the app serves from the installed package (no CDN).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["PAGES", "mount"]

# page URL → router module (the URLs the cockpit serves)
PAGES = {
    "/": "overview",
    "/cockpit/metrics": "explorer",
    "/cockpit/metrics/{name}": "explorer",
    "/cockpit/metrics/{name}/rca": "rootcause",
    "/cockpit/incidents": "incidents",
    "/cockpit/incidents/{id}": "incidents",
    "/cockpit/customers": "customers",
    "/cockpit/experiments": "modules",
    "/cockpit/replenishment": "modules",
    "/cockpit/pricing": "pricing",
    "/cockpit/funnels": "signals",
    "/cockpit/listening": "signals",
}


def mount(app: FastAPI) -> None:
    """Add the cockpit pages and static files to ``app``, and the cache warmer to its lifespan.

    The warmer (``luopan.cockpit.warm.Warmer``) runs while the app runs (from the lifespan's
    start to its end): it fills the page caches on start and after every warehouse refresh,
    so pages answer from memory; without a lifespan (a bare test client) pages compute what
    they miss themselves. With ``app.state.cockpit_warm_wait`` seconds (``luopan serve
    --warm-wait``) the lifespan's start waits for the first warm pass, so the server only
    listens once its pages are warm (or the wait ran out).
    """
    from importlib import import_module

    from luopan.cockpit.warm import Warmer
    from luopan.cockpit.web import _Cache

    app.state.cockpit_cache = _Cache()
    app.state.cockpit_warmer = Warmer(app)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            app.state.cockpit_warmer.start()
            wait = float(getattr(app.state, "cockpit_warm_wait", 0) or 0)
            if wait > 0:  # the server listens once the first warm pass is done (or timed out)
                await anyio.to_thread.run_sync(app.state.cockpit_warmer.wait_warm, wait)
            try:
                yield state
            finally:
                app.state.cockpit_warmer.stop()

    app.router.lifespan_context = lifespan
    app.mount(
        "/cockpit/static",
        StaticFiles(directory=str(Path(__file__).parent / "static")),
        name="cockpit-static",
    )
    for module in dict.fromkeys(PAGES.values()):
        mod = import_module(f"luopan.cockpit.pages.{module}")
        app.include_router(mod.router)

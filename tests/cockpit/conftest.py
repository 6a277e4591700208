"""Fixtures of the cockpit tests: a private copy of the demo world with the loop's incidents,
users of several roles and scopes, one app shared by every test (so page caches are shared),
and logged-in clients obtained through the real login form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cockpit_support import PASSWORD, USERS, TestClient, copy_world, login, seed


@pytest.fixture(scope="session")
def cockpit_world(demo_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(Workspace, seeded ids) of a private copy of the demo world, with users."""
    from luopan.api.users import add_user
    from luopan.workspace import Workspace

    src, _ = demo_world
    ws = Workspace.open(copy_world(src.root, tmp_path_factory.mktemp("cockpit") / "ws"))
    ids = seed(ws)
    for name, (role, scope) in USERS.items():
        add_user(ws, name, password=PASSWORD, role=role, **scope)
    return ws, ids


@pytest.fixture(scope="session")
def cockpit_app(cockpit_world: Any) -> Iterator[Any]:
    from luopan.api.app import create_app

    ws, _ = cockpit_world
    app = create_app(ws.root)
    yield app
    app.state.services.close()


@pytest.fixture(scope="session")
def client_for(cockpit_app: Any) -> Callable[[str], TestClient]:
    """A logged-in client per user name (one per session)."""
    clients: dict[str, TestClient] = {}

    def get(username: str) -> TestClient:
        if username not in clients:
            clients[username] = login(TestClient(cockpit_app), username)
        return clients[username]

    return get

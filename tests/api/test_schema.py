"""schemathesis against the OpenAPI schema, authenticated: no 5xx, every error in the envelope.

It runs on a private copy of the demo world (it may close incidents). The recall routes fit
CLV and churn models, and the experiments route reviews every test, per parameter set, so
they run under the ``slow`` marker.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from conftest import copy_workspace

# routes that fit models per parameter set (seconds each): fuzzed under the slow marker
SLOW = ("/api/v1/customers/recall", "/api/v1/experiments")
_SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def schema_app(api_world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    from luopan.api.app import create_app
    from luopan.api.users import issue_token
    from luopan.workspace import Workspace

    root = copy_workspace(api_world["root"], tmp_path_factory.mktemp("schema-world"))
    # the users and incidents come along with the metadata store
    src = sqlite3.connect(api_world["ws"].metadata_url.removeprefix("sqlite:///"))
    (root / ".luopan").mkdir(exist_ok=True)
    dst = sqlite3.connect(root / ".luopan" / "metadata.sqlite")
    try:
        src.backup(dst)  # consistent even with writes still in the WAL
    finally:
        src.close()
        dst.close()
    ws = Workspace.open(root)
    app = create_app(root)
    app.state.test_token = issue_token(ws, "admin", label="schemathesis")
    yield app
    app.state.services.close()


def _operations(app: Any, *, recall: bool) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    ops = [r.ok() for r in schema.get_all_operations()]
    mine = [o for o in ops if o.path.startswith("/api/v1") or o.path == "/health"]
    return [o for o in mine if o.path.startswith(SLOW) == recall]


def _fuzz(app: Any, *, recall: bool) -> int:
    """Run every operation's generated cases; returns how many requests were made."""
    headers = {"authorization": f"Bearer {app.state.test_token}"}
    calls = 0
    for op in _operations(app, recall=recall):

        @given(op.as_strategy())
        @_SETTINGS
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers=headers, timeout=120)
            where = (case.method, case.formatted_path, case.query)
            assert response.status_code < 500, (where, response.text)
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}, (where, body)
                assert set(body["error"]) == {"code", "message", "fix", "status"}
                assert body["error"]["status"] == response.status_code

        run()
    return calls


def test_api_fuzz(schema_app: Any) -> None:
    ops = _operations(schema_app, recall=False)
    assert {"/api/v1/metrics/{name}", "/api/v1/scorecard", "/api/v1/incidents"} <= {
        o.path for o in ops
    }
    assert _fuzz(schema_app, recall=False) >= 3 * len(ops)


@pytest.mark.slow
def test_api_fuzz_recall(schema_app: Any) -> None:
    assert _fuzz(schema_app, recall=True) >= 2

"""Login, logout, sessions, tokens, CSRF, rate limiting, roles and the error envelope."""

from __future__ import annotations

from typing import Any

from conftest import PASSWORD, TestClient, assert_envelope, login


def test_health_needs_no_login(app: Any) -> None:
    r = TestClient(app).get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_api_without_login_is_401_in_the_envelope(app: Any) -> None:
    c = TestClient(app, raise_server_exceptions=False)
    for url in ("/api/v1/me", "/api/v1/metrics", "/api/v1/scorecard", "/api/v1/incidents"):
        err = assert_envelope(c.get(url), 401, "not_authenticated")
        assert "login" in err["fix"]


def test_login_sets_an_httponly_samesite_session_cookie_and_logout_ends_it(app: Any) -> None:
    c = TestClient(app, raise_server_exceptions=False)
    r = login(c, "viewer")
    assert r.status_code == 200 and r.json() == {"username": "viewer", "role": "viewer"}
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("luopan_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert c.get("/api/v1/me").json()["username"] == "viewer"
    r = c.post("/logout", headers={"x-csrf-token": c.cookies["luopan_csrf"]})
    assert r.status_code == 200
    assert_envelope(c.get("/api/v1/me"), 401)


def test_secure_cookies_when_asked(api_world: dict[str, Any]) -> None:
    from luopan.api.app import create_app

    app = create_app(api_world["root"], secure_cookies=True)
    try:
        c = TestClient(app, base_url="https://testserver")
        r = login(c, "viewer")
        cookie = next(h for h in r.headers.get_list("set-cookie") if "luopan_session=" in h)
        assert "Secure" in cookie
    finally:
        app.state.services.close()


def test_html_login_redirects_to_next_and_rejects_offsite_targets(app: Any) -> None:
    c = TestClient(app, follow_redirects=False)
    c.get("/login")
    token = c.cookies["luopan_csrf"]
    data = {"username": "viewer", "password": PASSWORD, "csrf_token": token}
    r = c.post("/login", data={**data, "next": "/cockpit/x"}, headers={"accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == "/cockpit/x"
    r = c.post("/login", data={**data, "next": "//evil.example"}, headers={"accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_page_in_both_languages(app: Any) -> None:
    c = TestClient(app)
    assert "用户名" in c.get("/login").text
    assert "User name" in c.get("/login?lang=en").text
    assert "User name" in c.get("/login", headers={"accept-language": "en-US"}).text


def test_login_without_or_with_a_wrong_csrf_token_is_rejected(app: Any) -> None:
    c = TestClient(app, raise_server_exceptions=False)
    c.get("/login")
    r = c.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert_envelope(r, 403, "csrf_failed")
    r = c.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": "x" * 43})
    assert_envelope(r, 403, "csrf_failed")
    assert_envelope(c.get("/api/v1/me"), 401)


def test_wrong_password_then_rate_limit_after_five_failures(app: Any) -> None:
    c = TestClient(app, raise_server_exceptions=False)
    for _ in range(5):
        assert_envelope(login(c, "analyst", "wrong password"), 401, "not_authenticated")
    assert_envelope(login(c, "analyst", "wrong password"), 429, "too_many_requests")
    # even the right password is refused while the limit holds for this user and IP
    assert_envelope(login(c, "analyst", PASSWORD), 429, "too_many_requests")
    # another user from the same IP is not affected
    assert login(c, "admin").status_code == 200


def test_bearer_token_works_and_disabling_the_user_revokes_it(
    api_world: dict[str, Any], app: Any
) -> None:
    from luopan.api.users import add_user, disable_user, issue_token

    ws = api_world["ws"]
    add_user(ws, "temp", password=PASSWORD, role="viewer")
    token = issue_token(ws, "temp")
    c = TestClient(app, raise_server_exceptions=False)
    auth = {"authorization": f"Bearer {token}"}
    assert c.get("/api/v1/me", headers=auth).json()["username"] == "temp"
    assert_envelope(c.get("/api/v1/me", headers={"authorization": "Bearer nope"}), 401)
    app.state.services.users.disable("temp")  # in the serving process: at once
    assert_envelope(c.get("/api/v1/me", headers=auth), 401)
    assert_envelope(login(c, "temp"), 401)
    # from another process (the CLI) it takes effect when the remembered check expires
    add_user(ws, "temp2", password=PASSWORD, role="viewer")
    token2 = issue_token(ws, "temp2")
    auth2 = {"authorization": f"Bearer {token2}"}
    assert c.get("/api/v1/me", headers=auth2).status_code == 200
    disable_user(ws, "temp2")
    app.state.services.users.cache_seconds = 0.0
    try:
        app.state.services.users.forget()  # as if AUTH_CACHE_SECONDS had passed
        assert_envelope(c.get("/api/v1/me", headers=auth2), 401)
    finally:
        app.state.services.users.cache_seconds = 5.0


def test_tokens_and_passwords_are_stored_hashed(api_world: dict[str, Any]) -> None:
    import sqlalchemy as sa

    from luopan.api.users import issue_token

    ws = api_world["ws"]
    token = issue_token(ws, "viewer")
    engine = sa.create_engine(ws.metadata_url)
    with engine.connect() as con:
        hashes = [r[0] for r in con.execute(sa.text("SELECT password_hash FROM api_users"))]
        tokens = [r[0] for r in con.execute(sa.text("SELECT token_hash FROM api_tokens"))]
    engine.dispose()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert token not in tokens and all(len(t) == 64 for t in tokens)


def test_viewer_cannot_close_incidents_or_export(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    c = client_for("viewer")
    iid = api_world["incidents"]["whole"]
    csrf = {"x-csrf-token": c.cookies["luopan_csrf"]}
    assert_envelope(c.post(f"/api/v1/incidents/{iid}/close", headers=csrf), 403, "forbidden")
    assert_envelope(c.get("/api/v1/customers/recall/export"), 403, "forbidden")
    assert c.get(f"/api/v1/incidents/{iid}").json()["incident"]["status"] == "open"


def test_session_post_without_csrf_header_is_rejected(
    client_for: Any, api_world: dict[str, Any]
) -> None:
    c = client_for("analyst_b")
    iid = api_world["incidents"]["store_b"]
    assert_envelope(c.post(f"/api/v1/incidents/{iid}/close"), 403, "csrf_failed")


def test_envelope_on_404_405_422(client_for: Any) -> None:
    c = client_for("admin")
    assert_envelope(c.get("/api/v1/nowhere"), 404, "not_found")
    assert_envelope(c.get("/api/v1/metrics/no_such_metric"), 404, "not_found")
    assert_envelope(c.get("/api/v1/incidents/999999"), 404, "not_found")
    assert_envelope(c.delete("/api/v1/metrics"), 405, "method_not_allowed")
    assert_envelope(c.get("/api/v1/metrics/gmv?grain=hour"), 422, "invalid_request")
    assert_envelope(c.get("/api/v1/metrics/gmv?start=yesterday"), 422, "invalid_request")
    assert_envelope(c.get("/api/v1/metrics?limit=0"), 422, "invalid_request")
    assert_envelope(c.get("/api/v1/metrics/gmv?by=no_such_dim&grain=total"), 422, "metric_error")


def test_audit_log_records_logins_and_is_admin_only(client_for: Any) -> None:
    admin = client_for("admin")
    items = admin.get("/api/v1/audit?limit=1000").json()["items"]
    assert any(i["action"] == "login" and i["username"] == "admin" for i in items)
    assert_envelope(client_for("analyst_a").get("/api/v1/audit"), 403, "forbidden")


def test_plotly_is_served_locally(app: Any) -> None:
    r = TestClient(app).get("/static/vendor/plotly.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert len(r.content) > 1_000_000


def test_an_unexpected_error_is_a_500_in_the_envelope(api_world: dict[str, Any]) -> None:
    from luopan.api.app import create_app

    app = create_app(api_world["root"])

    @app.get("/api/v1/_boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret detail")

    try:
        c = TestClient(app, raise_server_exceptions=False)
        login(c, "viewer")
        err = assert_envelope(c.get("/api/v1/_boom"), 500, "internal_error")
        assert "secret" not in err["message"]
    finally:
        app.state.services.close()

"""``luopan report``: both languages written with the warehouse's figures, and --send delivers
a summary to a chat robot and the HTML report by e-mail (local receivers)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from luopan.cli.report import register
from luopan.metrics import connect, load_catalog, query_metric
from luopan.metrics.labels import format_value

sys.path.insert(0, str(Path(__file__).parents[1] / "notify"))
from notify_receivers import DING_SECRET, DING_TOKEN, http_receiver, smtp_server  # noqa: E402

AS_OF = "2026-11-15"  # a Sunday: the weekly report covers 2026-W46 (Nov 9–15)


def cli() -> typer.Typer:
    """The report command alone, in-process (the full CLI imports every engine)."""
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps ``report`` a named sub-command
        pass

    return app


def gmv(ws: Any, start: dt.date, end: dt.date) -> str:
    catalog = load_catalog(ws)
    con = connect(ws)
    try:
        value = query_metric(con, catalog, "gmv", grain=None, start=start, end=end)["value"][0]
    finally:
        con.disconnect()
    return format_value(float(value), catalog.metric("gmv"))


def test_report_command_writes_both_languages(cockpit_world: Any) -> None:
    ws, _ = cockpit_world
    week = gmv(ws, dt.date(2026, 11, 9), dt.date(2026, 11, 16))
    for lang, title in (
        ("zh", "运营周报 · 2026-W46"),
        ("en", "Weekly operations report · 2026-W46"),
    ):
        r = CliRunner().invoke(
            cli(), ["report", "weekly", "-w", str(ws.root), "--date", AS_OF, "--lang", lang]
        )
        assert r.exit_code == 0, r.output
        html = ws.root / "reports" / f"weekly-2026-W46-{lang}.html"
        assert str(html) in r.output.replace("\n", "")
        text = html.read_text(encoding="utf-8")
        assert title in text and f'<b id="north-star-value">{week}</b>' in text
    r = CliRunner().invoke(cli(), ["report", "monthly", "-w", str(ws.root)])
    assert r.exit_code != 0 and "unknown report" in str(r.exception)
    r = CliRunner().invoke(cli(), ["report", "daily", "-w", str(ws.root), "--date", "15/11"])
    assert r.exit_code != 0 and "YYYY-MM-DD" in str(r.exception.fix)  # type: ignore[union-attr]


def test_report_send_delivers_summary_and_html(cockpit_world: Any, monkeypatch: Any) -> None:
    ws, _ = cockpit_world
    day = gmv(ws, dt.date(2026, 11, 15), dt.date(2026, 11, 16))
    notify = ws.root / "notify.yaml"
    with http_receiver() as receiver, smtp_server() as box:
        notify.write_text(
            "channels:\n"
            "  ops_ding: {type: dingtalk, url_env: T_DING_URL, secret_env: T_DING_SECRET}\n"
            f"  ops_mail: {{type: email, host: 127.0.0.1, port: {box.port}, security: none,"
            " sender: luopan@brand.cn, to: [ops@brand.cn]}\n",
            encoding="utf-8",
        )
        monkeypatch.setenv(
            "T_DING_URL", f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}"
        )
        monkeypatch.setenv("T_DING_SECRET", DING_SECRET)
        try:
            r = CliRunner().invoke(
                cli(),
                ["report", "daily", "-w", str(ws.root), "--date", AS_OF, "--lang", "zh", "--send"],
            )
        finally:
            notify.unlink()
        assert r.exit_code == 0, r.output
        (req,) = receiver.received
        assert req.reply_body == '{"errcode": 0, "errmsg": "ok"}'  # signed as DingTalk checks
        md = req.json()["markdown"]
        assert md["title"].startswith("运营日报 · 2026-11-15")
        html = ws.root / "reports" / "daily-2026-11-15-zh.html"
        assert day in md["text"] and str(html) in md["text"]
        ((_, rcpt, mail),) = box.messages
        assert rcpt == ["ops@brand.cn"] and "运营日报 · 2026-11-15" in str(mail["Subject"])
        (attached,) = list(mail.iter_attachments())
        assert attached.get_filename() == html.name
        sent = attached.get_content().replace("\r\n", "\n").strip()  # SMTP sends CRLF
        assert sent == html.read_text(encoding="utf-8").strip()
        assert day in mail.get_body(preferencelist=("plain",)).get_content()


def test_watch_report_tick_writes_and_sends_on_schedule(
    cockpit_world: Any, monkeypatch: Any
) -> None:
    from luopan.cli.watch import report_tick
    from luopan.reports.schedule import STATE_FILE, parse_schedule

    ws, _ = cockpit_world
    state = ws.root / "reports" / STATE_FILE
    state.unlink(missing_ok=True)
    now = [dt.datetime(2026, 11, 30, 7, 0)]
    tick = report_tick(ws, "en", parse_schedule(daily="08:30"), clock=lambda: now[0])
    notify = ws.root / "notify.yaml"
    with http_receiver() as receiver:
        notify.write_text(
            "channels:\n"
            "  ops_ding: {type: dingtalk, url_env: T_DING_URL, secret_env: T_DING_SECRET}\n",
            encoding="utf-8",
        )
        monkeypatch.setenv(
            "T_DING_URL", f"{receiver.base_url}/dingtalk/robot/send?access_token={DING_TOKEN}"
        )
        monkeypatch.setenv("T_DING_SECRET", DING_SECRET)
        try:
            assert tick() == []  # first sight: recorded, nothing sent
            now[0] = dt.datetime(2026, 11, 30, 8, 29)
            assert tick() == []
            now[0] = dt.datetime(2026, 11, 30, 8, 30, 5)
            (html,) = tick()
            now[0] = dt.datetime(2026, 11, 30, 8, 31)
            assert tick() == []  # the slot is not sent twice
        finally:
            notify.unlink()
            state.unlink(missing_ok=True)
    assert html.name.startswith("daily-") and html.name.endswith("-en.html")
    assert "Daily operations report" in html.read_text(encoding="utf-8")
    (req,) = receiver.received
    assert req.json()["markdown"]["title"].startswith("Daily operations report")

"""Write a report to the workspace's ``reports/`` folder as HTML, and PDF when possible."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from luopan.reports.build import Report, build_report
from luopan.reports.pdf import CHROMIUM, html_to_pdf
from luopan.workspace import Workspace

__all__ = ["write_report"]


def write_report(
    ws: Workspace,
    *,
    kind: str = "weekly",
    lang: str = "zh",
    out_dir: Path | None = None,
    pdf: bool = True,
    as_of: dt.date | None = None,
    chromium: Path = CHROMIUM,
    report: Report | None = None,
) -> list[Path]:
    """Write the report; returns the files written (HTML, then PDF when printed).

    Without chromium the HTML is still written and the PDF is skipped (the caller can say
    so); with ``pdf=True`` and a failing chromium, ``PdfError`` is raised. Pass ``report``
    (from ``build_report``) to write one already built.
    """
    if report is None:
        report = build_report(ws, kind=kind, lang=lang, as_of=as_of)
    folder = out_dir or ws.root / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / f"{report.stem}.html"
    html.write_text(report.html, encoding="utf-8")
    written = [html]
    if pdf and chromium.exists():
        written.append(html_to_pdf(html, folder / f"{report.stem}.pdf", chromium=chromium))
    return written

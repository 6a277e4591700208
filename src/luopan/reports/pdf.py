"""Print an HTML file to PDF with headless chromium (no network, no JavaScript needed)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from luopan.errors import LuopanError

__all__ = ["CHROMIUM", "PdfError", "html_to_pdf"]

CHROMIUM = Path("/usr/bin/chromium")


class PdfError(LuopanError):
    """A report could not be printed to PDF (chromium missing or failing)."""


def html_to_pdf(html: Path, pdf: Path, *, chromium: Path = CHROMIUM, timeout: float = 120) -> Path:
    """Print ``html`` to ``pdf`` with headless chromium; returns ``pdf``.

    Raises:
        PdfError: chromium is not installed, or printing failed.
    """
    if not chromium.exists():
        raise PdfError(
            f"{chromium} is not installed, so the report cannot be printed to PDF",
            fix="apt-get install chromium fonts-wqy-microhei (the HTML report is written anyway)",
        )
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(
                f"chromium did not print {html} within {timeout:.0f} s", fix="retry"
            ) from None
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise PdfError(
            f"chromium could not print {html} to PDF: {' | '.join(tail)}",
            fix="check that /usr/bin/chromium starts headless",
        )
    return pdf

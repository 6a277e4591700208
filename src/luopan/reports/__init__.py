"""Daily and weekly operations reports (运营日报/周报) as self-contained HTML, and PDF.

``build_report(ws, kind="weekly", lang="zh")`` reads the warehouse and the decision log (the
whole brand: reports go to the operations lead) and renders one HTML file with its CSS and
charts (inline SVG) embedded, so it opens offline and prints the same everywhere.
``write_report`` writes it to ``<workspace>/reports/`` and, when Debian's chromium is
installed, prints it to PDF with headless chromium ``--print-to-pdf``; Chinese text uses the
WenQuanYi Micro Hei font (Debian ``fonts-wqy-microhei``), which chromium embeds in the PDF.
"""

from luopan.reports.build import Report, build_report
from luopan.reports.pdf import CHROMIUM, PdfError, html_to_pdf
from luopan.reports.write import write_report

__all__ = ["CHROMIUM", "PdfError", "Report", "build_report", "html_to_pdf", "write_report"]

"""A minimal, fast, deterministic .xlsx writer (one sheet, inline strings).

openpyxl writes about 30k rows a second and stamps the current time into docProps; the demo
writes a million inventory rows and must produce the same bytes for the same seed, so it
builds the sheet XML with vectorised string operations and a fixed zip timestamp instead.
Columns are text (``t="inlineStr"``) or numbers; ``None``/NaN become empty cells.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

_FIXED = (2026, 1, 1, 0, 0, 0)

_CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
_WB = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"""


def _cells(values: pd.Series, numeric: bool) -> pd.Series:
    if numeric:
        num = pd.to_numeric(values, errors="coerce")
        if pd.api.types.is_integer_dtype(num):
            text = num.astype("string")
        else:
            text = num.map(lambda v: repr(float(v)), na_action="ignore")
        out = "<c><v>" + text + "</v></c>"
    else:
        text = values.astype("string").map(lambda s: escape(s), na_action="ignore")
        out = '<c t="inlineStr"><is><t>' + text + "</t></is></c>"
    return out.fillna("<c/>").astype(object)


def write_xlsx(
    path: Path,
    frame: pd.DataFrame,
    *,
    numeric: set[str] | None = None,
    sheet: str = "Sheet1",
    raw_cells: dict[tuple[int, str], str] | None = None,
) -> None:
    """Write ``frame`` with its header row; ``numeric`` columns become number cells.

    ``raw_cells`` overrides single cells (0-based data row, column) with raw ``<c>`` XML,
    which is how the demo plants a float-mangled ID.
    """
    numeric = numeric or set()
    header = (
        "<row>"
        + "".join(f'<c t="inlineStr"><is><t>{escape(str(c))}</t></is></c>' for c in frame.columns)
        + "</row>"
    )
    if len(frame):
        cols = [_cells(frame[c].reset_index(drop=True), c in numeric) for c in frame.columns]
        for (r, c), xml in (raw_cells or {}).items():
            cols[list(frame.columns).index(c)].iat[r] = xml
        body = cols[0]
        for c in cols[1:]:
            body = body + c
        rows = "<row>" + body + "</row>"
        sheet_rows = "\n".join(rows.tolist())
    else:
        sheet_rows = ""
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{header}\n{sheet_rows}</sheetData></worksheet>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as z:
        for name, data in (
            ("[Content_Types].xml", _CT),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WB.format(name=escape(sheet))),
            ("xl/_rels/workbook.xml.rels", _WB_RELS),
            ("xl/worksheets/sheet1.xml", xml),
        ):
            info = zipfile.ZipInfo(name, date_time=_FIXED)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.encode("utf-8"))


def float_cell(value: float) -> str:
    """A number cell as Excel stores a long ID it has turned into a float."""
    return f"<c><v>{float(value)!r}</v></c>"

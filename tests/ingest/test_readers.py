"""Readers: every format into raw text with exact line numbers, rejects and fingerprints."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from luopan.errors import EncodingError, SourceError
from luopan.ingest.parse import FLOAT_ID
from luopan.ingest.parse_one import parse_value
from luopan.ingest.readers import read_arrow, read_file

ID = "5118234567890123456"
HOSTILE = ["'; DROP TABLE x; --", "a\x00b", "y" * 50_000, "好评🎉👍", "=cmd|' /C calc'!A0"]


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def rows(con, raw):
    cols = ", ".join(f"c{i}" for i in range(len(raw.headers)))
    return con.execute(f"SELECT {cols}, _line FROM {raw.table} ORDER BY _line").fetchall()


def read(path, con, tmp_path, **kw):
    return read_file(path, con, table="raw_1", workdir=tmp_path / "work", **kw)


def test_utf8_csv_keeps_19_digit_ids_and_fingerprints(tmp_path, con):
    path = tmp_path / "orders.csv"
    data = f'订单编号,实付金额 ,备注\n{ID},"￥1,234.50",ok\n="{ID}",12,\n'.encode()
    path.write_bytes(data)
    raw = read(path, con, tmp_path)
    assert raw.format == "csv" and raw.encoding == "utf-8"
    assert raw.headers == ("订单编号", "实付金额", "备注")
    assert raw.raw_headers == ("订单编号", "实付金额 ", "备注")
    assert raw.rows == 2 and raw.rejects == ()
    assert raw.fingerprint == hashlib.sha256(data).hexdigest()
    assert rows(con, raw) == [(ID, "￥1,234.50", "ok", 2), (f'="{ID}"', "12", None, 3)]
    assert parse_value("id", rows(con, raw)[1][0]) == (ID, None)


def test_gbk_file_with_chinese_headers(tmp_path, con):
    path = tmp_path / "taobao.csv"
    text = '订单编号,买家实际支付金额,收货地址 \n5118,"￥1,234.50",浙江省 杭州市\n'
    path.write_bytes(text.encode("gbk"))
    raw = read(path, con, tmp_path)
    assert raw.encoding == "gb18030"
    assert raw.headers == ("订单编号", "买家实际支付金额", "收货地址")
    assert rows(con, raw) == [("5118", "￥1,234.50", "浙江省 杭州市", 2)]
    assert parse_value("decimal", "￥1,234.50")[0] == pytest.approx(1234.5)
    assert list((tmp_path / "work").iterdir()) == []  # the transcoded copy is removed


def test_bom_file_and_crlf(tmp_path, con):
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + "订单编号,金额\r\n1,2\r\n3,4\r\n".encode())
    raw = read(path, con, tmp_path)
    assert raw.encoding == "utf-8-sig"
    assert raw.headers == ("订单编号", "金额")
    assert rows(con, raw) == [("1", "2", 2), ("3", "4", 3)]


def test_gbk_after_a_long_ascii_head_is_still_detected(tmp_path, con):
    path = tmp_path / "late.csv"
    head = "id,name\n" + "".join(f"{i},ascii\n" for i in range(150_000))  # > 1 MiB of ASCII
    path.write_bytes(head.encode() + "150000,张三\n".encode("gbk"))
    raw = read(path, con, tmp_path)
    assert raw.encoding == "gb18030" and raw.rows == 150_001 and raw.rejects == ()
    assert rows(con, raw)[-1] == ("150000", "张三", 150_002)


def test_neither_encoding_names_the_line(tmp_path, con):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,2\n3,\x81\x30\xff\xfe\x80\x80\n")
    with pytest.raises(EncodingError, match=r"bad\.csv.*line 3"):
        read(path, con, tmp_path)


@pytest.mark.parametrize(
    ("delim", "ext"), [(",", "csv"), ("\t", "tsv"), (";", "csv"), ("|", "csv")]
)
def test_delimiters_are_detected(tmp_path, con, delim, ext):
    path = tmp_path / f"a.{ext}"
    path.write_text(
        delim.join(["a", "b", "c"])
        + "\n"
        + delim.join(["1", "x,y" if delim != "," else "2", "3"])
        + "\n"
    )
    raw = read(path, con, tmp_path)
    assert raw.format == ext
    assert raw.headers == ("a", "b", "c")
    assert rows(con, raw)[0][0] == "1" and rows(con, raw)[0][2] == "3"


def test_truncated_last_line_is_rejected_with_its_line(tmp_path, con):
    path = tmp_path / "cut.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n7,8")
    raw = read(path, con, tmp_path)
    assert rows(con, raw) == [("1", "2", "3", 2), ("4", "5", "6", 3)]
    (reject,) = raw.rejects
    assert reject.line == 4 and reject.raw == "7,8"
    assert reject.reason.startswith("line 4 has 2 fields, expected 3: the file looks truncated")
    assert "re-export the file" in reject.reason


def test_line_numbers_are_physical_with_multiline_fields_rejects_and_blanks(tmp_path, con):
    path = tmp_path / "messy.csv"
    path.write_text(
        "a,b,c\n"  # 1
        "1,2,3\n"  # 2
        '4,"x\ny",6\n'  # 3-4
        "7,8\n"  # 5 rejected
        "\n"  # 6 blank
        "9,10,11\n"  # 7
        "12,13,14,15\n"  # 8 rejected
        '16,"two\n\nblank",17\n'  # 9-11
        "18,19,20\n"  # 12
        '21,"unterminated,22\n'  # 13-14 rejected (to end of file)
        "23,24,25\n"
    )
    raw = read(path, con, tmp_path)
    assert [r[-1] for r in rows(con, raw)] == [2, 3, 7, 9, 12]
    assert rows(con, raw)[1][1] == "x\ny"
    assert [(r.line, r.column) for r in raw.rejects] == [(5, None), (8, None), (13, 2)]
    assert raw.rejects[1].reason.startswith("line 8 has 4 fields, expected 3")
    assert "unterminated" in raw.rejects[2].reason


def test_hostile_strings_stay_verbatim_text(tmp_path, con):
    path = tmp_path / "hostile.csv"
    header = ['say "hi"', "'; DROP TABLE raw_1; --", "c"]
    lines = [",".join('"' + h.replace('"', '""') + '"' for h in header)]
    lines += [
        ",".join('"' + v.replace('"', '""') + '"' for v in (value, "2", "3")) for value in HOSTILE
    ]
    path.write_text("\n".join(lines) + "\n")
    raw = read(path, con, tmp_path)
    assert raw.headers == tuple(header)
    assert [r[0] for r in rows(con, raw)] == HOSTILE
    assert con.execute("SELECT count(*) FROM raw_1").fetchone() == (len(HOSTILE),)


def test_big_file_line_numbers_across_buffers(tmp_path, con):
    path = tmp_path / "big.csv"
    body = [f"{i},v{i}" for i in range(200_000)]
    body[150_000] = "oops"
    path.write_text("id,v\n" + "\n".join(body) + "\n")
    raw = read(path, con, tmp_path)
    assert raw.rows == 199_999
    assert [r.line for r in raw.rejects] == [150_002]
    check = con.execute("SELECT bool_and(_line = CAST(c0 AS BIGINT) + 2) FROM raw_1").fetchone()
    assert check == (True,)


def test_xlsx_cells_as_the_user_sees_them(tmp_path, con):
    path = tmp_path / "jd.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    ws.append(["订单号 ", "数字订单号", "下单时间", "数量", "金额", "备注"])
    ws.append([ID, float(ID), dt.datetime(2025, 11, 17, 8, 41, 16), 3, 12.5, HOSTILE[0]])
    ws.append([None, None, None, None, None, None])
    ws.append(["A1", 5118.0, dt.date(2025, 1, 5), 3.0, 0.1 + 0.2, HOSTILE[4]])
    other = wb.create_sheet("其他")
    other.append(["x"])
    other.append(["y"])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a text cell, not a formula
    wb.save(path)
    raw = read(path, con, tmp_path)
    assert raw.format == "xlsx" and raw.headers[0] == "订单号" and raw.raw_headers[0] == "订单号 "
    got = rows(con, raw)
    assert got[0] == (
        ID,
        "5.118234567890124e+18",
        "2025-11-17 08:41:16",
        "3",
        "12.5",
        HOSTILE[0],
        2,
    )
    assert got[1] == ("A1", "5118", "2025-01-05", "3", "0.3", HOSTILE[4], 4)
    assert parse_value("id", got[0][1]) == (None, FLOAT_ID)
    assert parse_value("id", got[0][0]) == (ID, None)
    raw2 = read_file(path, con, table="raw_2", sheet="其他", workdir=tmp_path)
    assert raw2.headers == ("x",) and raw2.rows == 1
    raw3 = read_file(path, con, table="raw_3", sheet=1, workdir=tmp_path)
    assert raw3.headers == ("x",)
    with pytest.raises(SourceError, match="no sheet 'nope'"):
        read_file(path, con, table="raw_4", sheet="nope", workdir=tmp_path)


def test_parquet_to_text(tmp_path, con):
    path = tmp_path / "o.parquet"
    table = pa.table(
        {
            "订单编号": [ID, "2"],
            "int_id": pa.array([int(ID), 2], pa.int64()),
            "float_id": [5.118e18, 1.5],
            "ts": pa.array([dt.datetime(2025, 11, 17, 8, 41, 16), None], pa.timestamp("us")),
            'we"ird': [{"k": [1, 2]}, None],
        }
    )
    pq.write_table(table, path)
    raw = read(path, con, tmp_path)
    assert raw.headers == ("订单编号", "int_id", "float_id", "ts", 'we"ird')
    assert rows(con, raw) == [
        (ID, ID, "5.118e+18", "2025-11-17 08:41:16", '{"k":[1,2]}', 2),
        ("2", "2", "1.5", None, None, 3),
    ]
    assert parse_value("id", "5.118e+18") == (None, FLOAT_ID)
    assert raw.fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()


def test_jsonl_with_malformed_lines(tmp_path, con):
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"id": "' + ID + '", "n": 1, "p": {"a": [1]}}\n'
        '{"n": null, "we\\"ird": "\'; DROP TABLE x; --"}\n'
        "\n"
        "{bad json\n"
        "[1, 2]\n"
        '{"id": "7"}\n'
    )
    raw = read(path, con, tmp_path)
    assert raw.headers == ("id", "n", "p", 'we"ird')
    assert rows(con, raw) == [
        (ID, "1", '{"a":[1]}', None, 1),
        (None, None, None, "'; DROP TABLE x; --", 2),
        ("7", None, None, None, 6),
    ]
    assert [(r.line, r.raw) for r in raw.rejects] == [(4, "{bad json"), (5, "[1, 2]")]


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 24])
def test_jsonl_lines_split_as_string_split_does_across_chunks(tmp_path, con, monkeypatch, chunk):
    """The lines and numbers the JSONL reader takes are those of DuckDB's own split."""
    from luopan.ingest.readers import tabular

    monkeypatch.setattr(tabular, "CHUNK_SIZE", chunk)
    contents = [b"", b"\n", b"a", b"a\r\nb\r\n", b"x\r\r\ny\n\n\n", '好评🎉\n{"k": "值"}'.encode()]
    for i, content in enumerate(contents):
        path = tmp_path / f"f{i}.jsonl"
        path.write_bytes(content)
        expected = con.execute(
            "SELECT rtrim(t.line, chr(13)), t.n FROM (SELECT string_split(content, chr(10)) AS l "
            "FROM read_text($path)) s, unnest(s.l) WITH ORDINALITY t(line, n) ORDER BY 2",
            {"path": str(path)},
        ).fetchall()
        con.register("lines_view", tabular._text_lines(path))
        got = con.execute("SELECT line, _line FROM lines_view ORDER BY 2").fetchall()
        con.unregister("lines_view")
        assert got == expected, content


def test_read_arrow(con):
    data = pa.table({"订单编号": [ID, None], "amount": pa.array([1.5, 2.0]), "n": [1, 2]})
    raw = read_arrow(data, con, table_name="raw_db", name_for_messages="pg:orders")
    assert raw.path == "pg:orders" and raw.rows == 2
    assert raw.headers == ("订单编号", "amount", "n")
    assert rows(con, raw) == [(ID, "1.5", "1", 2), (None, "2.0", "2", 3)]
    again = read_arrow(data, con, table_name="raw_db2", name_for_messages="pg:orders")
    assert again.fingerprint == raw.fingerprint and len(raw.fingerprint) == 64


def test_missing_and_unsupported_files(tmp_path, con):
    with pytest.raises(SourceError, match="missing.csv"):
        read(tmp_path / "missing.csv", con, tmp_path)
    odd = tmp_path / "orders.pdf"
    odd.write_bytes(b"%PDF")
    with pytest.raises(SourceError, match=r"orders\.pdf.*unsupported") as err:
        read(odd, con, tmp_path)
    assert ".xlsx" in str(err.value) and ".parquet" in str(err.value)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        read(empty, con, tmp_path)


def test_table_name_must_be_generated(tmp_path, con):
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ValueError):
        read_file(path, con, table='x"; DROP TABLE y; --', workdir=tmp_path)

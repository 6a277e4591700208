"""Encoding detection and transcoding, including chunk boundaries inside multibyte characters."""

from __future__ import annotations

import codecs

import pytest

from luopan.errors import EncodingError, SourceError
from luopan.ingest import encoding
from luopan.ingest.encoding import detect_encoding, to_utf8

TEXT = "订单编号,实付金额\n5118234567890123456,￥1,234.50\n"


def test_plain_utf8_is_returned_unchanged(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(TEXT.encode("utf-8"))
    assert detect_encoding(path) == "utf-8"
    assert to_utf8(path, "utf-8", tmp_path / "work") == path


def test_bom_is_reported_and_stripped(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert detect_encoding(path) == "utf-8-sig"
    out = to_utf8(path, "utf-8-sig", tmp_path / "work")
    assert out != path and out.parent == tmp_path / "work"
    assert out.read_bytes() == TEXT.encode("utf-8")


def test_gbk_file_is_gb18030_and_transcodes(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(TEXT.encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    assert to_utf8(path, "gb18030", tmp_path).read_text("utf-8") == TEXT


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_chunk_boundaries_inside_characters(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(encoding, "CHUNK_SIZE", chunk)
    utf = tmp_path / "u.csv"
    utf.write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8") * 3)
    gbk = tmp_path / "g.csv"
    gbk.write_bytes(TEXT.encode("gb18030") * 3)
    assert detect_encoding(utf) == "utf-8-sig"
    assert detect_encoding(gbk) == "gb18030"
    assert to_utf8(utf, "utf-8-sig", tmp_path).read_text("utf-8") == TEXT * 3
    assert to_utf8(gbk, "gb18030", tmp_path).read_text("utf-8") == TEXT * 3
    bad = tmp_path / "b.csv"
    data = "中文\n第二行\n".encode() + b"ab\xff\n"
    bad.write_bytes(data)
    assert encoding._first_bad_byte(bad, "utf-8-sig") == data.index(b"\xff")


def test_neither_utf8_nor_gbk_names_offset_line_and_fix(tmp_path):
    path = tmp_path / "junk.csv"
    data = b"a,b\n1,2\n\x81\x30\xff\xfe\x80\x80\n"
    path.write_bytes(data)
    with pytest.raises(EncodingError) as err:
        detect_encoding(path)
    message = str(err.value)
    assert "junk.csv" in message
    assert "byte offset 8 " in message  # b"a,b\n1,2\n" is 8 bytes
    assert "(line 3)" in message
    assert "save the file as UTF-8 or GBK/GB18030" in message
    assert "`encoding:`" in message


def test_mostly_gbk_file_points_at_the_bad_gbk_byte(tmp_path):
    path = tmp_path / "orders.csv"
    good = "订单编号,金额\n1001,￥12.50\n".encode("gbk")
    path.write_bytes(good + b"1002,\xff\xff\xff\n")
    with pytest.raises(EncodingError) as err:
        detect_encoding(path)
    assert (
        f"reading it as GBK/GB18030, the first bad byte 0xff is at byte offset {len(good) + 5} (line 3)"
        in str(err.value)
    )


def test_wrong_declared_encoding_fails_on_transcode(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"ok\n\xff\xff\n")
    with pytest.raises(EncodingError, match=r"line 2"):
        to_utf8(path, "utf-8-sig", tmp_path / "w")
    assert list((tmp_path / "w").iterdir()) == []  # no half-written copy is left behind


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="nope.csv"):
        detect_encoding(tmp_path / "nope.csv")

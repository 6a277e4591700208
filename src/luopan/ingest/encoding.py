"""Detect a text file's encoding and transcode it to UTF-8 for DuckDB.

Chinese exports are UTF-8 (often with a BOM) or GBK. DuckDB here reads only UTF-8, so files are
checked in order ``utf-8-sig`` → ``gb18030`` → charset-normalizer, in 16 MiB chunks with an
incremental decoder (constant memory, stops at the first bad byte), and transcoded when needed.
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

from luopan.errors import EncodingError, SourceError

__all__ = ["CHUNK_SIZE", "detect_encoding", "to_utf8"]

CHUNK_SIZE = 16 * 1024 * 1024
_FIX = "save the file as UTF-8 or GBK/GB18030, or set `encoding:` for this source in luopan.yaml"


def _first_bad_byte(path: Path, encoding: str) -> int | None:
    """Byte offset of the first byte that does not decode, or None if the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(CHUNK_SIZE)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                # exc.start indexes into (bytes buffered from the last chunk + this chunk)
                return offset - (len(exc.object) - len(chunk)) + exc.start
            if final:
                return None
            offset += len(chunk)


def _line_of(path: Path, offset: int) -> int:
    """1-based line number of the byte at ``offset``."""
    line = 1
    remaining = offset
    with path.open("rb") as f:
        while remaining > 0:
            chunk = f.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            line += chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def _has_bom(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(3) == codecs.BOM_UTF8


def detect_encoding(path: str | Path) -> str:
    """Return "utf-8", "utf-8-sig", "gb18030" or a charset-normalizer name for ``path``.

    Raises:
        SourceError: the file does not exist.
        EncodingError: no candidate decodes the file; names the first bad byte and its line.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: file not found", fix="check the path in luopan.yaml")
    bad_utf8 = _first_bad_byte(path, "utf-8-sig")
    if bad_utf8 is None:
        return "utf-8-sig" if _has_bom(path) else "utf-8"
    bad_gb = _first_bad_byte(path, "gb18030")
    if bad_gb is None:
        return "gb18030"
    guess = _charset_normalizer_guess(path)
    if guess is not None:
        return guess
    # Report the failure of the encoding that read furthest: that is what the file mostly is.
    name, bad = ("GBK/GB18030", bad_gb) if bad_gb > bad_utf8 else ("UTF-8", bad_utf8)
    raise EncodingError(
        f"{path}: the bytes are neither UTF-8 nor GBK/GB18030; reading it as {name}, the first "
        f"bad byte 0x{_read_byte(path, bad):02x} is at byte offset {bad} "
        f"(line {_line_of(path, bad)})",
        fix=_FIX,
    )


def _read_byte(path: Path, offset: int) -> int:
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read(1)
    return data[0] if data else 0


def _charset_normalizer_guess(path: Path) -> str | None:
    """Last resort: a confident charset-normalizer guess that really decodes the whole file."""
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None or best.encoding is None:
        return None
    unicode_with_bom = best.encoding.startswith(("utf_16", "utf_32"))
    if not unicode_with_bom and (best.chaos > 0.1 or best.coherence < 0.2):
        return None  # any bytes decode as some 8-bit code page; demand a coherent language
    name = codecs.lookup(best.encoding).name
    if name in {"utf-8", "gb18030"} or _first_bad_byte(path, name) is not None:
        return None
    return name


def to_utf8(path: str | Path, encoding: str, dest_dir: str | Path) -> Path:
    """Return a UTF-8 (no BOM) version of ``path``: the file itself or a transcoded copy.

    The copy is written to a new temporary file in ``dest_dir``, chunk by chunk, so memory stays
    constant for any file size. The caller owns (and deletes) the copy.

    Raises:
        EncodingError: the file does not decode with ``encoding``.
    """
    path = Path(path)
    if codecs.lookup(encoding).name == "utf-8":
        return path
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="utf8-", suffix=path.suffix, dir=dest)
    out_path = Path(name)
    offset = 0
    try:
        with path.open("rb") as src, open(fd, "wb") as out:
            first = True
            while True:
                chunk = src.read(CHUNK_SIZE)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    at = offset - (len(exc.object) - len(chunk)) + exc.start
                    raise EncodingError(
                        f"{path}: byte offset {at} (line {_line_of(path, at)}) is not valid "
                        f"{encoding}",
                        fix=_FIX,
                    ) from None
                if first and text.startswith("\ufeff"):
                    text = text[1:]
                first = False
                out.write(text.encode("utf-8"))
                if not chunk:
                    break
                offset += len(chunk)
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    return out_path

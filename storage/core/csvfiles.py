"""CSV files staff send and receive: reading an uploaded table (UTF-8, with or without a BOM, comma
or semicolon separated, a header row whose names may be English or Chinese), and writing rows the
way Excel opens them (a BOM, so Chinese shows correctly)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from storage.core.refusals import Refused

MAX_BYTES = 20 * 1024 * 1024  # a file larger than this is refused before it is downloaded
MAX_ROWS = 200_000
MAX_FIELD = 1_000  # characters in one cell: longer is a broken file, not data
BOM = "\ufeff"
DELIMITERS = ",;\t"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9][0-9 .]*")


class FileRefused(Refused):
    """`code`: import.not_utf8, import.empty, import.too_many_rows (max), import.unknown_header
    (header), import.bad_csv (line)."""


@dataclass(frozen=True)
class Table:
    """The rows of a file by field name (the `fields` the header maps to), each with its line number
    in the file (the header is line 1)."""

    fields: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("import.not_utf8") from None


def _delimiter(first_line: str) -> str:
    """The separator the header uses: the one of DELIMITERS it has most of (a header has no quotes
    worth sniffing around; csv.Sniffer guesses wrong on one-column files)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_fields(header: Sequence[str], aliases: Mapping[str, str]) -> list[str | None]:
    """Each header cell's field name (None: a column we ignore); `aliases` maps lowercased names
    (English and Chinese) to fields."""
    return [aliases.get(cell.strip().lower()) for cell in header]


def read(data: bytes, kinds: Mapping[str, tuple[Mapping[str, str], frozenset[str]]]) -> tuple[str, Table]:
    """The kind of table `data` holds and its rows: the first kind (name -> (aliases, required
    fields)) whose required fields the header names. Refuses a file that is not UTF-8, has no
    header, no known header, a broken row or more than MAX_ROWS rows."""
    text = decode(data)
    if not text.strip():
        raise FileRefused("import.empty")
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error:
        raise FileRefused("import.bad_csv", line=1) from None
    for kind, (aliases, required) in kinds.items():
        fields = header_fields(header, aliases)
        if required <= set(fields):
            return kind, Table(tuple(f for f in fields if f), _rows(reader, fields))
    raise FileRefused("import.unknown_header", header=delimiter.join(header)[:200])


def _rows(reader: Iterable[list[str]], fields: list[str | None]) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for cells in reader:
            line = getattr(reader, "line_num", line + 1)
            if not any(cell.strip() for cell in cells):
                continue  # a blank line (spreadsheets add them at the end)
            if len(rows) >= MAX_ROWS:
                raise FileRefused("import.too_many_rows", max=MAX_ROWS)
            cut = (cell.strip()[:MAX_FIELD] for cell in cells)
            row = {field: cell for field, cell in zip(fields, cut, strict=False) if field}
            rows.append((line, row))
    except csv.Error:
        raise FileRefused("import.bad_csv", line=line + 1) from None
    return rows


def cell(value: object) -> object:
    """A value as a spreadsheet may read it: a text that would start a formula (=, +, -, @, a tab) gets
    a leading apostrophe, so a customer's name never runs in Excel; numbers and phone numbers stay."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in _FORMULA and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def line(values: Iterable[object]) -> str:
    """One CSV line (\r\n, as Excel writes it), every value as text; None is an empty cell."""
    out = io.StringIO()
    csv.writer(out).writerow([cell(value) for value in values])
    return out.getvalue()

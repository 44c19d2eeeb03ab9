"""Reading the unit directory CSV (`propdesk units import`): decoding, header, rows.

Pure functions, no database: the CLI validates the whole file with :func:`parse_units_csv`
and imports only when nothing is wrong. Line numbers are the file's (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from models.property import UNIT_COLUMNS, UnitRow, validate_unit_row

# utf-8-sig accepts UTF-8 with and without a BOM; GB18030 is what Chinese Excel saves as "CSV".
ENCODINGS = ("utf-8-sig", "gb18030")
HEADER = ",".join(UNIT_COLUMNS)
UNIT_CODE_MAX = 40  # models.property.Unit.code is String(40)


class CsvError(Exception):
    """The file as a whole cannot be used (encoding, header, no rows); the message is one line."""


@dataclass(frozen=True)
class CsvRow:
    """One data record: the line it starts on and its values by column name."""

    line: int
    values: dict[str, str]


@dataclass
class ParsedUnits:
    encoding: str
    rows: list[UnitRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the encoding that decoded it strictly."""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # UTF-16 or binary: decodes "successfully" but is not what we read
        return text, encoding
    raise CsvError(
        "the file is neither UTF-8 nor GB18030 text; save it from Excel as "
        "'CSV UTF-8 (comma delimited)'"
    )


def _blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def _check_header(cells: list[str], line: int) -> str | None:
    """Why the header is wrong, or None when it names each column exactly once."""
    names = [c.strip().lower() for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty cells some spreadsheets add
    expected = f"expected {HEADER} (any order)"
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        return f"line {line}: the header is not comma-separated; {expected}"
    problems: list[str] = []
    missing = [c for c in UNIT_COLUMNS if c not in names]
    unknown = [n for n in names if n not in UNIT_COLUMNS]
    twice = sorted({n for n in names if n in UNIT_COLUMNS and names.count(n) > 1})
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
    if twice:
        problems.append(f"column(s) named twice: {', '.join(twice)}")
    if problems:
        return f"line {line}: wrong header: {'; '.join(problems)}; {expected}"
    return None


def read_rows(text: str) -> tuple[list[CsvRow], list[tuple[int, str]]]:
    """Data records after a valid header, and the records whose shape is wrong.

    Raises CsvError when the file is empty, the header is wrong, the CSV cannot be parsed,
    or there is no data row at all.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[CsvRow] = []
    errors: list[tuple[int, str]] = []
    last = 0
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num
            if _blank(cells):
                continue
            if header is None:
                problem = _check_header(cells, line)
                if problem:
                    raise CsvError(problem)
                header = [c.strip().lower() for c in cells]
                continue
            extra = cells[len(header) :]
            if len(cells) < len(header) or not _blank(extra):
                errors.append((line, f"has {len(cells)} fields, the header has {len(header)}"))
                continue
            values = {name: value for name, value in zip(header, cells, strict=False) if name}
            rows.append(CsvRow(line, values))
    except csv.Error as exc:
        raise CsvError(f"line {reader.line_num}: not valid CSV: {exc}") from None
    if header is None:
        raise CsvError(f"the file is empty; expected the header {HEADER}")
    if not rows and not errors:
        raise CsvError("the file has a header but no unit rows")
    return rows, errors


def validate_rows(rows: list[CsvRow]) -> tuple[list[UnitRow], list[tuple[int, str]]]:
    """Every row checked (models.property.validate_unit_row) plus units repeated in the file."""
    good: list[UnitRow] = []
    errors: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    for row in rows:
        unit_row, reasons = validate_unit_row(row.line, row.values)
        code = (row.values.get("unit") or "").strip().upper()
        if code and len(code) > UNIT_CODE_MAX:
            reasons = [*reasons, f"unit {code!r} is longer than {UNIT_CODE_MAX} characters"]
        if code:
            if code in first_line:
                reasons = [*reasons, f"unit {code} also on line {first_line[code]}"]
            else:
                first_line[code] = row.line
        if reasons:
            errors.append((row.line, "; ".join(reasons)))
        elif unit_row is not None:
            good.append(unit_row)
    return good, errors


def parse_units_csv(data: bytes) -> ParsedUnits:
    """Decode, read and validate a whole file. Raises CsvError for file-level problems."""
    text, encoding = decode(data)
    rows, shape_errors = read_rows(text)
    good, row_errors = validate_rows(rows)
    errors = sorted(shape_errors + row_errors)
    return ParsedUnits(encoding=encoding, rows=[] if errors else good, errors=errors)

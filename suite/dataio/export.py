"""Every list exports to Excel: `xlsx_response(...)` streams rows into a write-only workbook.

Rows come from an iterator (use `yield_per` on big queries) so an export never holds a whole table
of ORM objects; money and quantities stay `Decimal` (openpyxl writes them as numbers).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200_000  # an export larger than this asks the user to filter first


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
    if isinstance(value, bool | int | float | Decimal | dt.date) or value is None:
        return value
    return str(value)


def workbook_bytes(title: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx with one sheet: a bold header row, then `rows` (stops at MAX_ROWS)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(title)[:31] or "Sheet1")
    bold = Font(bold=True)
    header = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for n, row in enumerate(rows):
        if n >= MAX_ROWS:
            break
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(
    filename: str, title: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> Response:
    """A download of `filename` (ASCII name plus a UTF-8 name for Chinese titles)."""
    from urllib.parse import quote

    data = workbook_bytes(title, headers, rows)
    response = Response(data, mimetype=XLSX)
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response

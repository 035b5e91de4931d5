"""Tables for people: CSV that Excel opens as UTF-8 and XLSX, neither ever running a cell as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from layers.io.streams import spreadsheet_safe


def csv_bytes(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """``rows`` as CSV with a header, a BOM (so Excel reads Chinese as UTF-8) and formula-safe cells.

    >>> csv_bytes(["code", "name"], [{"code": "1", "name": "=2+3", "extra": 0}]).decode("utf-8-sig")
    "code,name\\r\\n1,'=2+3\\r\\n"
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    sheet: str,
    headers: Sequence[str] | None = None,
) -> bytes:
    """``rows`` as one XLSX sheet: numbers as numbers, text always as text (openpyxl would make
    a string starting with ``=`` a formula), the header row frozen.

    >>> from openpyxl import load_workbook
    >>> book = load_workbook(io.BytesIO(xlsx_bytes(["a", "b"], [{"a": "=1+1", "b": 2.5}], sheet="t")))
    >>> [(c.value, c.data_type) for c in book["t"][2]]
    [('=1+1', 's'), (2.5, 'n')]
    """
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.freeze_panes = "A2"
    ws.append(list(headers or columns))
    for row in rows:
        cells = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=row.get(column))
            if isinstance(cell.value, str):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

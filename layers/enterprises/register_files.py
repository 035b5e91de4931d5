"""Importing a register extract (``wangge enterprises import FILE``): CSV in UTF-8 or GBK, or
XLSX; the columns found by their usual Chinese headers or mapped by the caller; every row
checked before anything is written, every bad row named, all or nothing.

A row is refused for a credit code with a wrong check character, an industry code GB/T 4754
does not have, a 登记机关 code that is no division code, a date or capital that is not one, an
unknown status, a credit code twice in the file, or an address with nothing in it to read. An
address the geocoder cannot place is no error: the firm is stored ``unresolved`` for a
steward. A firm already in the register is updated (its visits kept); a new firm's founding,
and a firm's closing, become register changes for the daily push.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import Connection, select, text

from geo.errors import InvalidInput
from layers.db.models import ENTERPRISES
from layers.db.vocabulary import ENTERPRISE_STATUSES
from layers.enterprises import industries, register, registrars
from layers.enterprises.credit_code import parse_credit_code
from layers.grid.index import AreaIndex
from layers.grid.validate import Problem
from layers.io.area_files import ImportProblems, read_text

# field → the headers registers use for it (国家企业信用信息公示系统, 市场监管 extracts)
HEADERS = {
    "credit_code": ("统一社会信用代码", "信用代码", "credit_code"),
    "name": ("企业名称", "名称", "name"),
    "legal_form": ("企业类型", "类型", "legal_form"),
    "industry": ("行业代码", "国民经济行业代码", "industry"),
    "capital": ("注册资本", "注册资本(万元)", "注册资本（万元）", "capital"),
    "founded": ("成立日期", "founded"),
    "status": ("登记状态", "经营状态", "status"),
    "status_on": ("状态日期", "注销日期", "吊销日期", "status_on"),
    "reg_address": ("注册地址", "住所", "reg_address"),
    "op_address": ("经营地址", "生产经营地址", "实际经营地址", "op_address"),
    "legal_rep": ("法定代表人", "legal_rep"),
    "phone": ("联系电话", "phone"),
    "registrar": ("登记机关", "registrar"),
}
REQUIRED = ("credit_code", "name", "industry", "founded", "status", "reg_address")
STATUS_WORDS = {
    "存续": "在营",
    "开业": "在营",
    "在业": "在营",
    "注销": "注销",
    "吊销": "吊销",
    "迁出": "迁出",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class RegisterImport:
    rows: int
    new: int
    updated: int
    unresolved: int  # addresses the geocoder could not place (a steward's list)


def _cells(path: Path) -> tuple[list[str], list[list[Any]]]:
    if path.suffix.lower() == ".xlsx":
        sheet = load_workbook(path, read_only=True, data_only=True).active
        if sheet is None:
            raise InvalidInput(f"{path.name} has no sheet", field="file")
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    elif path.suffix.lower() == ".csv":
        rows = [list(r) for r in csv.reader(io.StringIO(read_text(path)))]
    else:
        raise InvalidInput(f"{path.name}: a register extract is .csv or .xlsx", field="file")
    if len(rows) < 2:
        raise InvalidInput(f"{path.name} has no rows under its header", field="file")
    return [str(h or "").strip() for h in rows[0]], rows[1:]


def _columns(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    unknown = set(mapping) - set(HEADERS)
    if unknown:
        raise InvalidInput(
            f"no field {', '.join(sorted(unknown))}; fields: {', '.join(HEADERS)}", field="column"
        )
    out = {}
    for field, names in HEADERS.items():
        wanted = (mapping[field],) if field in mapping else names
        found = next((header.index(n) for n in wanted if n in header), None)
        if found is None and field in mapping:
            raise InvalidInput(f"the file has no column {mapping[field]!r} (for {field})", field="column")
        if found is not None:
            out[field] = found
    missing = [f for f in REQUIRED if f not in out]
    if missing:
        raise InvalidInput(
            f"no column for {', '.join(missing)} (headers: {', '.join(header)}); "
            "map one with --column FIELD=HEADER",
            field="column",
        )
    return out


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text_ = str(value).strip().replace("/", "-").replace("年", "-").replace("月", "-").rstrip("日")
    return date.fromisoformat("-".join(p.zfill(2) for p in text_.split("-")))


def _capital(value: Any) -> float | None:
    if value is None or str(value).strip() == "":
        return None
    text_ = str(value).strip().removesuffix("万元").removesuffix("万人民币").removesuffix("万").strip()
    number = float(text_.replace(",", ""))
    if number < 0:
        raise ValueError(number)
    return number


def read_register(path: Path, mapping: dict[str, str], district: str) -> list[dict[str, Any]]:
    """Every row of the extract as a firm, or ``ImportProblems`` naming each bad row."""
    header, rows = _cells(path)
    at = _columns(header, mapping)
    firms: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(str(c or "").strip() for c in row):
            continue
        cell = {f: (row[i] if i < len(row) else None) for f, i in at.items()}
        text_ = {f: str(v).strip() if v is not None else "" for f, v in cell.items()}
        try:
            code = parse_credit_code(text_["credit_code"]).code
        except InvalidInput as e:
            problems.append(Problem(None, str(e), number))
            continue
        if code in seen:
            problems.append(Problem(None, f"credit code {code} is also on row {seen[code]}", number))
            continue
        seen[code] = number
        bad = []
        try:
            industry = industries.check_industry(text_["industry"])
        except InvalidInput as e:
            bad.append(str(e))
            industry = ""
        status = STATUS_WORDS.get(text_["status"].split("（")[0].split("(")[0], text_["status"])
        if status not in ENTERPRISE_STATUSES:
            bad.append(f"status {text_['status']!r} is not one of {', '.join(ENTERPRISE_STATUSES)}")
        founded = status_on = None
        try:
            founded = _date(cell["founded"])
        except (ValueError, TypeError):
            bad.append(f"founded {text_['founded']!r} is not a date")
        if status != "在营" and status in ENTERPRISE_STATUSES:
            try:
                status_on = _date(cell.get("status_on") or "")
            except (ValueError, TypeError):
                bad.append(
                    f"status_on {text_.get('status_on', '')!r} is not a date (a {status} firm needs one)"
                )
        try:
            capital = _capital(cell.get("capital"))
        except ValueError:
            bad.append(f"capital {text_.get('capital', '')!r} is not a number of 万元")
            capital = None
        reg = text_["reg_address"]
        op = text_.get("op_address") or reg
        for label, value in (("reg_address", reg), ("op_address", op)):
            if not _CJK.search(value):
                bad.append(f"{label} {value!r} has no address in it to read")
        if not text_["name"]:
            bad.append("name is empty")
        try:
            registrar = registrars.registrar_of(text_.get("registrar", ""), code)
        except InvalidInput as e:
            bad.append(str(e))
        if bad:
            problems.extend(Problem(code, b, number) for b in bad)
            continue
        firms.append(
            {
                "credit_code": code, "name": text_["name"], "legal_form": text_.get("legal_form") or "",
                "industry": industry, "label": industries.label_of(industry), "capital": capital,
                "founded": founded, "status": status, "status_on": status_on, "moved_in_on": None,
                "district": district, "registrar": registrar, "reg_address": reg, "op_address": op,
                "legal_rep": text_.get("legal_rep") or None, "phone": text_.get("phone") or None,
                "generated": False, "source": f"import:{path.name}",
            }
        )  # fmt: skip
    if problems:
        raise ImportProblems(problems, what=path.name)
    if not firms:
        raise InvalidInput(f"{path.name} has no firms", field="file")
    return firms


def import_register(
    conn: Connection, index: AreaIndex, path: Path, mapping: dict[str, str], district: str, today: date
) -> RegisterImport:
    """Read, check and write a register extract in the caller's transaction."""
    firms = read_register(path, mapping, district)
    industries.load_reference(conn)
    e = ENTERPRISES.c
    codes = [f["credit_code"] for f in firms]
    before = dict(conn.execute(select(e.credit_code, e.status).where(e.credit_code.in_(codes))).all())
    events = []
    for f in firms:
        old = before.get(f["credit_code"])
        if old is None and f["status"] == "在营":
            events.append((f["credit_code"], "registered", f["founded"]))
        if f["status"] != "在营" and old != f["status"]:
            events.append((f["credit_code"], register.CLOSING[f["status"]], min(f["status_on"], today)))
    placed = register.write_firms(conn, index, firms, events, upsert=True)
    unresolved = sum(1 for p in placed if p.match not in ("exact", "house_near", "outside"))
    conn.execute(text("ANALYZE enterprises"))
    return RegisterImport(len(firms), len(firms) - len(before), len(before), unresolved)

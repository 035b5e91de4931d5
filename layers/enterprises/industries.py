"""GB/T 4754-2017 (国民经济行业分类): the codes a register's industry may carry, the district's
"2+6" industry chains, and the industry departments the daily push goes to.

``gbt4754_2017.csv`` holds the whole table: its 20 sections (门类), 97 divisions (大类) and
1,381 classes (小类), typed from the standard's published text (no PyPI or npm package carries
it; every code was checked against a second public transcription), so a four-digit code that
is not in it does not exist. ``labels.csv`` (the 2+6 chains) and ``departments.csv`` (the 11
departments) are the platform's defaults, a district edits them: a firm takes the label and
the department of the longest code prefix that names one, and a department that looks after
a label gets that label's firms too.

>>> check_industry("I6513"), check_industry("72"), label_of("7291"), label_of("7212")
('6513', '72', '文化旅游', '商务服务')
>>> check_industry("6598")
Traceback (most recent call last):
...
geo.errors.InvalidInput: industry code 6598 is not in GB/T 4754-2017 (division 65 has no such class)
>>> check_industry("C1811"), check_industry("4050")  # manufacturing is checked to the class too
('1811', '4050')
>>> check_industry("1810")  # GB/T 4754-2011's; 2017 split it into 1811 and 1819
Traceback (most recent call last):
...
geo.errors.InvalidInput: industry code 1810 is not in GB/T 4754-2017 (division 18 has no such class)
>>> departments_of("5522", "航运贸易"), departments_of("6513", "数字经济")
(['ED06'], ['ED11'])
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, text

from geo.errors import InvalidInput

HERE = Path(__file__).resolve().parent
_CODE = re.compile(r"^(?P<section>[A-T])?(?P<digits>\d{2}|\d{4})$|^(?P<only>[A-T])$")


@dataclass(frozen=True)
class IndustryCode:
    code: str
    name: str
    level: str  # section, division, class
    section: str


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    industries: tuple[str, ...]
    labels: tuple[str, ...]


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def industry_table() -> dict[str, IndustryCode]:
    """Every code of the table by code."""
    return {r["code"]: IndustryCode(**r) for r in _rows("gbt4754_2017.csv")}


@cache
def labels() -> dict[str, tuple[str, ...]]:
    """The 2+6 chains in order (the two leading ones first), each with its code prefixes."""
    return {r["label"]: tuple(r["industries"].split()) for r in _rows("labels.csv")}


@cache
def departments() -> list[Department]:
    return [
        Department(r["code"], r["name"], tuple(r["industries"].split()), tuple(r["labels"].split()))
        for r in _rows("departments.csv")
    ]


def check_industry(value: str, field: str = "industry") -> str:
    """The code of ``value`` (a section letter in front, as some registers write it, is dropped
    and checked), or ``InvalidInput`` when GB/T 4754-2017 has no such code."""
    found = _CODE.match(value.strip().upper())
    if found is None:
        raise InvalidInput(
            f"industry code {value!r} is not a GB/T 4754 code (A–T, 2 or 4 digits)", field=field
        )
    code = found["only"] or found["digits"]
    table = industry_table()
    division = table.get(code[:2]) if found["digits"] else None
    if found["digits"] and division is None:
        raise InvalidInput(
            f"industry code {code} is not in GB/T 4754-2017 (no division {code[:2]})", field=field
        )
    if found["only"] and code not in table:
        raise InvalidInput(f"industry code {code} is not in GB/T 4754-2017", field=field)
    if division is not None and found["section"] and found["section"] != division.section:
        raise InvalidInput(
            f"industry code {value}: division {code[:2]} is in section {division.section}, "
            f"not {found['section']}",
            field=field,
        )
    if len(code) == 4 and code not in table:
        raise InvalidInput(
            f"industry code {code} is not in GB/T 4754-2017 (division {code[:2]} has no such class)",
            field=field,
        )
    return code


def industry_name(code: str) -> str:
    """The class's or the division's name (a register may hold either)."""
    table = industry_table()
    row = table.get(code) or table.get(code[:2])
    return row.name if row else code


def _longest(code: str, prefixes: dict[str, str]) -> str | None:
    for n in range(len(code), 1, -1):
        if code[:n] in prefixes:
            return prefixes[code[:n]]
    return None


@cache
def _label_prefixes() -> dict[str, str]:
    return {p: label for label, ps in labels().items() for p in ps}


def label_of(code: str) -> str | None:
    """The 2+6 chain of an industry code, if it is in one."""
    return _longest(code, _label_prefixes())


def departments_of(code: str, label: str | None, table: list[Department] | None = None) -> list[str]:
    """The departments a firm of ``code`` (and ``label``) is pushed to, in table order
    (``table``: the departments as the district keeps them; the defaults if not given)."""
    table = departments() if table is None else table
    by_code = _longest(code, {p: d.code for d in table for p in d.industries})
    return [d.code for d in table if d.code == by_code or (label is not None and label in d.labels)]


def load_reference(conn: Connection) -> None:
    """Write the industry table and the departments (an edited department keeps its edits)."""
    conn.execute(
        text(
            "INSERT INTO industries (code, name, level, section) VALUES (:code, :name, :level, :section) "
            "ON CONFLICT (code) DO UPDATE SET name = excluded.name"
        ),
        [
            {"code": r.code, "name": r.name, "level": r.level, "section": r.section}
            for r in industry_table().values()
        ],
    )
    conn.execute(
        text(
            "INSERT INTO enterprise_departments (code, name, industries, labels) "
            "VALUES (:code, :name, :industries, :labels) ON CONFLICT (code) DO NOTHING"
        ),
        [
            {"code": d.code, "name": d.name, "industries": list(d.industries), "labels": list(d.labels)}
            for d in departments()
        ],
    )

"""Reading the register: the combined search (企业猎搜), one firm, the separation check, the
public features.

The separation kind of a firm is computed by the database from its two located addresses
whenever they are written (``models.SEPARATION_SQL``): an address the geocoder trusts, in a
micro-grid of the firm's district, is inside; one it places in another district, or that
names a district the platform does not hold, is outside; anything else leaves the firm
``unresolved``. The check counts them over the operating firms each time it is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, String, Text, and_, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from geo.errors import InvalidInput, NotFound
from layers.db import sql
from layers.db.models import (
    AREAS,
    ENTERPRISE_EVENTS,
    ENTERPRISE_HEADCOUNTS,
    ENTERPRISE_VISITS,
    ENTERPRISES,
    INDUSTRIES,
)
from layers.enterprises import industries, registrars
from layers.enterprises.credit_code import CHARSET

E = ENTERPRISES.c
OPERATING = "在营"
# The kinds, and the published check's two (8,576 = 4,392 + 4,184 in 2023).
SEPARATION_KINDS = (
    "operating_outside", "inside_elsewhere", "registered_outside", "both_outside", "same", "unresolved",
)  # fmt: skip
SEPARATED = ("operating_outside", "inside_elsewhere")
CLOSED = ("deregistered", "revoked")  # the change filter's "closed"
KIND_NAMES = {
    "operating_outside": ("区内注册、区外经营", "registered inside, operating outside"),
    "inside_elsewhere": ("区内注册、区内异址经营", "inside, at another place"),
    "registered_outside": ("区外注册、区内经营", "registered outside, operating inside"),
    "both_outside": ("注册、经营均在区外", "both outside"),
    "same": ("注册与经营地址一致", "at its registered address"),
    "unresolved": ("地址待核实", "address to check"),
}


SEPARATION = E.separation  # computed by the database from the two located addresses (models)


@dataclass(frozen=True)
class Filters:
    """The combined filters of the search; every one optional."""

    q: str | None = None  # name (any part) or credit code (its beginning)
    industry: str | None = None  # a GB/T 4754 section, division or class
    label: str | None = None
    capital_min: float | None = None
    capital_max: float | None = None
    founded_from: date | None = None
    founded_to: date | None = None
    status: str | None = None
    street: str | None = None
    separation: str | None = None
    change: str | None = None  # a register change (ENTERPRISE_EVENT_KINDS) …
    changed_from: date | None = None  # … on or after
    changed_to: date | None = None  # … on or before
    abnormal: bool = False  # last month's headcount fell by more than ABNORMAL_DROP, or to none
    growing: bool = False  # the headcount grew by GROWTH_RISE and GROWTH_MIN people in a year
    registrar: str | None = None  # registrars.LEVELS: the city's authority, the district's, another's

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.q:
            text_ = self.q.strip()
            code = text_.upper()
            if len(code) >= 4 and sum(c.isdigit() for c in code) >= 2 and all(c in CHARSET for c in code):
                out.append(E.credit_code.like(_inline(f"{_escape(code)}%")))  # a code typed: its beginning
            elif text_.isascii() or any(c.isascii() and c.isalpha() for c in text_):
                out.append(E.name.ilike(_inline(f"%{_escape(text_)}%")))
            else:  # Chinese: its character pairs (a GIN index) narrow it, LIKE keeps them in order
                pairs = name_pairs(text_)
                like = E.name.like(_inline(f"%{_escape(text_)}%"))
                out.append(and_(E.name_pairs.contains(_inline(pairs, ARRAY(Text))), like) if pairs else like)
        if self.industry:
            code = industries.check_industry(self.industry)  # by indexed columns, never LIKE
            if len(code) == 4:
                out.append(E.industry == code)
            elif code.isdigit():
                out.append(E.division == code)
            else:  # a section: its divisions
                divisions = [
                    c
                    for c, r in industries.industry_table().items()
                    if r.level == "division" and r.section == code
                ]
                out.append(E.division.in_(divisions))
        if self.label:
            if self.label not in industries.labels():
                raise InvalidInput(
                    f"no 2+6 label {self.label!r}; labels: {', '.join(industries.labels())}", field="label"
                )
            out.append(E.label == self.label)
        # as numeric, like the column: a float parameter is float8, and numeric >= float8
        # compares every row cast to float8 instead of using the capital's index
        if self.capital_min is not None:
            out.append(E.capital >= Decimal(str(self.capital_min)))
        if self.capital_max is not None:
            out.append(E.capital <= Decimal(str(self.capital_max)))
        if self.founded_from is not None:
            out.append(E.founded >= self.founded_from)
        if self.founded_to is not None:
            out.append(E.founded <= self.founded_to)
        if self.status:
            out.append(E.status == self.status)
        if self.street:
            out.append(E.street == self.street)
        if self.separation == "separated":  # the published check's two kinds together
            out.append(E.separation.in_(SEPARATED))
        elif self.separation:
            out.append(E.separation == self.separation)
        if self.registrar:
            if self.registrar not in registrars.LEVELS:
                raise InvalidInput(
                    f"registrar {self.registrar!r} is not one of {', '.join(registrars.LEVELS)}",
                    field="registrar",
                )
            out.append(E.registrar_level == self.registrar)
        if self.change or self.changed_from or self.changed_to:
            ev = ENTERPRISE_EVENTS.c
            changed: list[ColumnElement[bool]] = []
            kinds = CLOSED if self.change == "closed" else (self.change,)
            changed += [ev.kind.in_(kinds)] if self.change else []
            changed += [ev.on >= self.changed_from] if self.changed_from else []
            changed += [ev.on <= self.changed_to] if self.changed_to else []
            out.append(E.credit_code.in_(select(ev.credit_code).where(*changed)))
        h = ENTERPRISE_HEADCOUNTS.c
        for wanted, rule in ((self.abnormal, abnormal), (self.growing, growing)):
            if wanted:
                out.append(select(h.credit_code).where(h.credit_code == E.credit_code, rule()).exists())
        return out


ABNORMAL_DROP = 0.3  # a month's headcount down by more than this share is abnormal (to help)
GROWTH_RISE = 0.3  # up by more than this share on the same month a year before …
GROWTH_MIN = 5  # … and by this many people at least, and not down last month: to support


def abnormal() -> ColumnElement[bool]:
    """Headcounts whose last month fell by more than ``ABNORMAL_DROP`` or to none."""
    h = ENTERPRISE_HEADCOUNTS.c
    last = func.cardinality(h.counts)
    now, before = h.counts[last], h.counts[last - 1]
    return and_(last >= 2, before > 0, or_(now == 0, now < before * (1 - ABNORMAL_DROP)))


def growing() -> ColumnElement[bool]:
    """Headcounts whose last month is up by more than ``GROWTH_RISE`` and ``GROWTH_MIN``
    people on the same month a year before, and not below the month before it (a firm
    that keeps growing, not one month's noise)."""
    h = ENTERPRISE_HEADCOUNTS.c
    last = func.cardinality(h.counts)
    now, before, year_ago = h.counts[last], h.counts[last - 1], h.counts[last - 12]
    return and_(
        last >= 13,
        year_ago > 0,
        now >= before,
        now >= year_ago + GROWTH_MIN,
        now > year_ago * (1 + GROWTH_RISE),
    )


def name_pairs(name: str) -> list[str]:
    """The adjacent character pairs of a name, once each (the search's index of short words:
    a two-character trade name has no trigram to look up).

    >>> name_pairs("慧和谷"), name_pairs("谷")
    (['和谷', '慧和'], [])
    """
    return sorted({name[i : i + 2] for i in range(len(name) - 1)})


def _inline(value: Any, type_: Any = None) -> Any:
    """A pattern written into the statement, not bound: a prepared statement's generic plan
    cannot know that ``LIKE '%慧和%'`` may use the trigram index (a bound one scans the table)."""
    return literal(value, type_, literal_execute=True)


def _escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _street_name() -> Any:
    a = AREAS.c
    return (
        select(a.name)
        .where(a.generation == sql.active_generation(), a.code == E.street)
        .scalar_subquery()
        .label("street_name")
    )


def _industry_name() -> Any:
    i = INDUSTRIES.c
    return select(i.name).where(i.code == E.industry).scalar_subquery().label("industry_name")


PUBLIC_COLUMNS = (
    E.credit_code, E.name, E.legal_form, E.industry, E.label, E.capital, E.founded, E.status, E.status_on,
    E.moved_in_on, E.district, E.registrar, E.registrar_level, E.street,
)  # fmt: skip


def firm_columns(personal: bool) -> tuple[Any, ...]:
    staff = (E.reg_address, E.reg_match, E.op_address, E.op_match, E.reg_micro_grid, E.op_micro_grid,
             E.reg_elsewhere, E.op_elsewhere, E.generated)  # fmt: skip
    lonlat = (func.ST_X(E.op_geom).label("lon"), func.ST_Y(E.op_geom).label("lat"))
    people = (E.legal_rep, E.phone) if personal else ()
    return (*PUBLIC_COLUMNS, _industry_name(), _street_name(), *staff, *lonlat, SEPARATION, *people)


SORTS = {"name": E.name, "founded": E.founded, "capital": E.capital, "credit_code": E.credit_code}


def search(
    conn: Connection,
    filters: Filters,
    *,
    limit: int,
    offset: int = 0,
    sort: str = "credit_code",
    descending: bool = False,
    personal: bool = False,
) -> tuple[int, list[dict[str, Any]]]:
    """The firms matching every filter given, one page of them, and how many match."""
    where = filters.where()
    column = SORTS[sort]
    order = column.desc() if descending else column.asc()
    if sort == "capital":  # a branch has none: last either way (the others are never null)
        order = order.nulls_last()
    if not where:  # the whole register: its count, and the page along the sort's index
        total = conn.execute(select(func.count()).select_from(ENTERPRISES)).scalar_one()
        page = select(*firm_columns(personal)).order_by(order, E.credit_code).limit(limit).offset(offset)
        return int(total), [_row(r) for r in conn.execute(page).mappings()]
    # The matching firms once (by their indexes, a bitmap), counted and the page sorted from
    # them, the page's rows read last: walking the sort's index and filtering as it goes reads
    # half the register when the matches sort late (the MA codes of recent firms).
    matched = (
        select(E.credit_code, column.label("key")).where(*where).cte("matched").prefix_with("MATERIALIZED")
    )
    key = matched.c.key.desc() if descending else matched.c.key.asc()
    chosen = (
        select(matched.c.credit_code, matched.c.key)
        .order_by(key.nulls_last() if sort == "capital" else key, matched.c.credit_code)
        .limit(limit)
        .offset(offset)
        .subquery("chosen")
    )
    total_of = select(func.count()).select_from(matched).scalar_subquery().label("total")
    rows = list(
        conn.execute(
            select(*firm_columns(personal), total_of)
            .join(chosen, chosen.c.credit_code == E.credit_code)
            .order_by(order, E.credit_code)
        ).mappings()
    )
    total = rows[0]["total"] if rows else conn.execute(select(func.count()).select_from(matched)).scalar_one()
    return int(total), [_row({k: v for k, v in r.items() if k != "total"}) for r in rows]


def _row(r: Any) -> dict[str, Any]:
    out = dict(r)
    out["registrar_name"] = registrars.name_of(out["registrar"], out["registrar_level"])
    if out.get("capital") is not None:
        out["capital"] = float(out["capital"])
    return out


def firm(conn: Connection, credit_code: str, *, personal: bool) -> dict[str, Any]:
    """One firm with its register changes, monthly headcounts and visits (``NotFound``)."""
    row = (
        conn.execute(select(*firm_columns(personal)).where(E.credit_code == credit_code.strip().upper()))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no enterprise with credit code {credit_code}", field="credit_code")
    out = _row(row)
    ev = ENTERPRISE_EVENTS.c
    out["events"] = [
        {"kind": k, "on": d} for k, d in conn.execute(
            select(ev.kind, ev.on).where(ev.credit_code == out["credit_code"]).order_by(ev.on, ev.id)
        )
    ]  # fmt: skip
    h = ENTERPRISE_HEADCOUNTS.c
    counts = conn.execute(select(h.first_month, h.counts).where(h.credit_code == out["credit_code"])).first()
    out["headcounts"] = [] if counts is None else months_of(counts[0], list(counts[1]))
    v = ENTERPRISE_VISITS.c
    visits = select(v.street, v.note, v.at, *((v.actor,) if personal else ())).where(
        v.credit_code == out["credit_code"]
    )
    out["visits"] = [dict(r) for r in conn.execute(visits.order_by(v.at)).mappings()]
    return out


def months_of(first: date, counts: list[int]) -> list[dict[str, Any]]:
    """A headcount array as (month, headcount) rows.

    >>> [m["month"] for m in months_of(date(2025, 11, 1), [3, 4, 0])]
    ['2025-11', '2025-12', '2026-01']
    """
    out = []
    for k, value in enumerate(counts):
        month = first.month - 1 + k
        out.append({"month": f"{first.year + month // 12}-{month % 12 + 1:02d}", "headcount": value})
    return out


LISTED = (*SEPARATED, "unresolved")  # the kinds a street follows up, firm by firm
LIST_COLUMNS = (
    E.credit_code, E.name, E.industry, E.label, E.reg_address, E.reg_match, E.op_address, E.op_match,
)  # fmt: skip


def separation(conn: Connection, by: str, district: str | None = None, lists: bool = False) -> dict[str, Any]:
    """The separation check over operating firms: the count of each kind, and the same per
    street (the responsible one) or per industry division; with ``lists`` each group names its
    firms of the kinds to follow up (``LISTED``), by kind and credit code."""
    if by not in ("street", "industry"):
        raise InvalidInput("by is street or industry", field="by")
    where = [E.status == OPERATING, *([E.district == district] if district else [])]
    counted = conn.execute(select(SEPARATION, func.count()).where(*where).group_by(SEPARATION))
    kinds: dict[str, int] = {str(k): int(n) for k, n in counted}
    key: Any = cast(E.street if by == "street" else E.division, String).label("code")
    rows = conn.execute(
        select(key, SEPARATION, func.count().label("n")).where(*where).group_by(key, SEPARATION)
    )
    names = _group_names(conn, by)
    groups: dict[str | None, dict[str, Any]] = {}

    def group(code: str | None) -> dict[str, Any]:
        return groups.setdefault(code, {"code": code, "name": names.get(code) if code else None, "kinds": {}})

    for code, kind, n in rows:
        group(code)["kinds"][kind] = int(n)
    for g in groups.values():
        g["separated"] = sum(g["kinds"].get(k, 0) for k in SEPARATED)
        g["kinds"] = {k: g["kinds"].get(k, 0) for k in SEPARATION_KINDS}
    if lists:
        for g in groups.values():
            g["firms"] = []
        listed = select(key, SEPARATION, *LIST_COLUMNS).where(*where, SEPARATION.in_(LISTED))
        for r in conn.execute(listed.order_by(key, SEPARATION, E.credit_code)).mappings():
            group(r["code"])["firms"].append({k: v for k, v in r.items() if k != "code"})
    ordered = sorted(groups.values(), key=lambda g: (-g["separated"], g["code"] or "~"))
    return {
        "operating": int(sum(kinds.values())),
        "separated": int(sum(kinds.get(k, 0) for k in SEPARATED)),
        "kinds": {k: int(kinds.get(k, 0)) for k in SEPARATION_KINDS},
        "by": by,
        "groups": ordered,
    }


def _group_names(conn: Connection, by: str) -> dict[str, str]:
    if by == "industry":
        return {c: r.name for c, r in industries.industry_table().items() if r.level == "division"}
    return {
        code: name
        for code, name in conn.execute(
            select(AREAS.c.code, AREAS.c.name).where(
                AREAS.c.generation == sql.active_generation(), AREAS.c.level == "street"
            )
        )
    }


def _feature_columns() -> tuple[Any, ...]:
    return (
        E.credit_code.label("id"), E.name, E.industry, _industry_name(), E.label, E.status, E.founded,
        E.street, _street_name(), func.ST_AsGeoJSON(E.op_geom, 6).label("geojson"),
    )  # fmt: skip


def query_features(
    conn: Connection,
    *,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
    district: str | None = None,
    status: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Operating addresses as public feature rows: a firm's name, code, industry and street
    at its doorplate's point; no addresses' rooms, no people."""
    where: list[ColumnElement[bool]] = [E.op_geom.isnot(None)]
    if district is not None:
        where.append(E.district == district)
    if status is not None:
        where.append(E.status == status)
    if bbox is not None:
        where.append(sql.bbox_filter(E.op_geom, bbox))
    matched = conn.execute(select(func.count()).select_from(ENTERPRISES).where(*where)).scalar_one()
    query = select(*_feature_columns()).where(*where).order_by(E.credit_code).limit(limit).offset(offset)
    return [_public(r) for r in conn.execute(query).mappings()], int(matched)


def _public(r: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in r.items()}


def feature_row(conn: Connection, credit_code: str) -> dict[str, Any]:
    row = (
        conn.execute(select(*_feature_columns()).where(E.credit_code == credit_code, E.op_geom.isnot(None)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no enterprise {credit_code}", field="featureId")
    return _public(row)


def extent(conn: Connection) -> list[float] | None:
    return sql.extent(conn, E.op_geom)

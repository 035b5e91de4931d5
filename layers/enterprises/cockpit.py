"""The enterprise cockpit (企业驾驶舱): one screen for a leader, its figures from the register
and every one of them a link to the list behind it (``/enterprises?…``).

Scenes: the panorama (firms, operating, founded and closed this year, the daily push since
launch), operating firms per street (a choropleth on the real street boundaries and a ranked
bar chart), the 2+6 industry mix, registrations against deregistrations and moves in and out
per month, the separation check, abnormal operation (a social-insurance headcount that fell
by more than ``queries.ABNORMAL_DROP`` in the last month, or to none) and the head firms of each 2+6
chain with their headcount trend. The charts are SVG the server writes from these figures (the
page's template: bars, lines, the street map as paths in a local plane), every bar and street
a link, the text kept as text (Noto Sans CJK), printable to PDF like the monthly report.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely
from sqlalchemy import Connection, case, func, select, text

from layers.db import sql
from layers.db.models import AREAS, ENTERPRISE_EVENTS, ENTERPRISE_HEADCOUNTS, ENTERPRISES
from layers.enterprises import digest, industries, queries, registrars

E, EV, H = ENTERPRISES.c, ENTERPRISE_EVENTS.c, ENTERPRISE_HEADCOUNTS.c
HEADS = 3  # head firms shown per chain
MONTHS = 24
NAVY, RED, GREEN, PALE = "#1f3b63", "#c0392b", "#1b7f3b", "#9bb7d6"


def link(**filters: Any) -> str:
    """The list page of the firms a figure counts.

    >>> link(street="370203034", status="在营")
    '/enterprises?street=370203034&status=%E5%9C%A8%E8%90%A5'
    """
    return "/enterprises?" + urlencode({k: v for k, v in filters.items() if v is not None})


def data_version(conn: Connection) -> tuple[Any, ...]:
    """What the cockpit is drawn from: the register, its changes and the pushes."""
    firms = select(func.count(), func.max(E.updated_at)).select_from(ENTERPRISES).subquery()
    changes = select(func.max(EV.id)).scalar_subquery()
    pushes = text("(SELECT count(*) FROM enterprise_digest_items)")
    return tuple(conn.execute(select(sql.active_generation(), *firms.c, changes, pushes)).one())


def _streets(conn: Connection) -> list[tuple[str, str, Any]]:
    a = AREAS.c
    rows = conn.execute(
        select(a.code, a.name, func.ST_AsBinary(a.geom))
        .where(a.generation == sql.active_generation(), a.level == "street")
        .order_by(a.code)
    ).all()
    return [(code, name, shapely.from_wkb(bytes(wkb))) for code, name, wkb in rows]


def _months(today: date) -> list[date]:
    first = today.replace(day=1)
    out = []
    for _ in range(MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(first)
    return out[::-1]


def _flows(conn: Connection, months: list[date]) -> dict[str, list[int]]:
    month = func.date_trunc("month", EV.on).cast(EV.on.type)
    rows = conn.execute(
        select(month, EV.kind, func.count()).where(EV.on >= months[0]).group_by(month, EV.kind)
    ).all()
    at = {m: k for k, m in enumerate(months)}
    out = {
        kind: [0] * len(months) for kind in ("registered", "moved_in", "deregistered", "revoked", "moved_out")
    }
    for m, kind, n in rows:
        if m in at:
            out[kind][at[m]] = int(n)
    return out


def _by_level(conn: Connection, year: date) -> list[dict[str, Any]]:
    """This year's registrations, closures and moves split by the registering authority's level
    (市级/区级/外区: the push's "city and district level"), each count a link to its list."""
    level = E.registrar_level
    founded: dict[str, int] = {
        str(lv): int(n)
        for lv, n in conn.execute(select(level, func.count()).where(E.founded >= year).group_by(level))
    }
    change = case((EV.kind.in_(queries.CLOSED), "closed"), else_=EV.kind)
    changed: dict[tuple[str, str], int] = {
        (str(k), str(lv)): int(n)
        for k, lv, n in conn.execute(
            select(change, level, func.count(func.distinct(EV.credit_code)))
            .join_from(ENTERPRISE_EVENTS, ENTERPRISES, EV.credit_code == E.credit_code)
            .where(EV.on >= year, EV.kind != "registered")
            .group_by(change, level)
        )
    }
    since = year.isoformat()
    rows = [
        {
            "key": "founded",
            "counts": {lv: founded.get(lv, 0) for lv in registrars.LEVELS},
            "href": {lv: link(founded_from=since, registrar=lv) for lv in registrars.LEVELS},
        }
    ]
    return rows + [
        {
            "key": kind,
            "counts": {lv: changed.get((kind, lv), 0) for lv in registrars.LEVELS},
            "href": {lv: link(change=kind, changed_from=since, registrar=lv) for lv in registrars.LEVELS},
        }
        for kind in ("closed", "moved_in", "moved_out")
    ]


def _headcount_changes(conn: Connection, op: Any, rule: Any, *, back: int) -> list[dict[str, Any]]:
    """The operating firms whose headcounts meet ``rule``: last month's figure beside the one
    ``back`` months before it, the largest changes first."""
    rows = conn.execute(
        select(E.credit_code, E.name, E.street, H.counts)
        .join(ENTERPRISE_HEADCOUNTS, H.credit_code == E.credit_code)
        .where(op, rule)
    )
    out = [
        {"credit_code": code, "name": name, "street": street, "before": counts[-1 - back], "now": counts[-1]}
        for code, name, street, counts in rows
    ]
    out.sort(key=lambda f: (-abs(f["now"] - f["before"]), f["credit_code"]))
    return out


def _heads(conn: Connection) -> list[dict[str, Any]]:
    """The largest operating firms of each 2+6 chain by last month's headcount, with their trend."""
    last = H.counts[func.cardinality(H.counts)]
    rank = func.row_number().over(partition_by=E.label, order_by=(last.desc(), E.credit_code)).label("rank")
    ranked = (
        select(E.credit_code, E.name, E.label, H.counts, rank)
        .join(ENTERPRISE_HEADCOUNTS, H.credit_code == E.credit_code)
        .where(E.label.isnot(None), E.status == queries.OPERATING)
        .subquery()
    )
    rows = conn.execute(select(ranked).where(ranked.c.rank <= HEADS)).mappings()
    order = {label: k for k, label in enumerate(industries.labels())}
    out = []
    for r in sorted(rows, key=lambda r: (order.get(r["label"], 99), r["rank"])):
        counts = list(r["counts"])
        year_ago = counts[-13] if len(counts) >= 13 else counts[0]
        out.append(
            {
                "label": r["label"],
                "credit_code": r["credit_code"],
                "name": r["name"],
                "headcount": counts[-1],
                "change": counts[-1] - year_ago,
                "spark": spark(counts[-12:]),
            }
        )
    return out


def spark(values: list[int], width: float = 120, height: float = 24) -> str:
    """A sparkline's polyline points (SVG user units), highest value at the top.

    >>> spark([1, 3, 2], width=10, height=4)
    '0.0,4.0 5.0,0.0 10.0,2.0'
    """
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{k * step:.1f},{height - (v - low) / span * height:.1f}" for k, v in enumerate(values))


def street_paths(
    streets: list[tuple[str, str, Any]], width: float = 560
) -> tuple[list[dict[str, Any]], float]:
    """The streets as SVG paths in a local plane (north up, metres scaled to ``width``), each with
    the point its label goes at; answers them and the map's height."""
    shapes = [shape for _, _, shape in streets]
    x0, y0, x1, y1 = shapely.total_bounds(shapes)
    kx = np.cos(np.radians((y0 + y1) / 2))  # a degree of longitude is cos(φ) of one of latitude
    scale = width / ((x1 - x0) * kx)
    height = (y1 - y0) * scale

    def xy(x: float, y: float) -> str:
        return f"{(x - x0) * kx * scale:.1f},{(y1 - y) * scale:.1f}"

    out = []
    for code, name, shape in streets:
        rings = []
        for poly in getattr(shape, "geoms", [shape]):
            coords = shapely.simplify(poly, 0.00005).exterior.coords
            rings.append("M" + " L".join(xy(x, y) for x, y in coords) + " Z")
        centre = shapely.get_point(shapely.maximum_inscribed_circle(shape, 1e-5), 0)
        lx, ly = xy(centre.x, centre.y).split(",")
        out.append({"code": code, "name": name, "d": " ".join(rings), "x": lx, "y": ly})
    return out, round(height, 1)


def _share(value: int, top: int) -> float:
    return round(value / top, 4) if top else 0.0


def build(conn: Connection, today: date) -> dict[str, Any]:
    """Every figure of the cockpit as of ``today`` (Beijing), with its charts and links."""
    year = date(today.year, 1, 1)
    op = E.status == queries.OPERATING
    totals = conn.execute(select(func.count(), func.count().filter(op))).one()
    levels = _by_level(conn, year)  # this year's changes by level: their sums are the totals
    this_year = {r["key"]: sum(r["counts"].values()) for r in levels}
    streets = _streets(conn)
    per_street: dict[str, int] = {
        c: int(n)
        for c, n in conn.execute(
            select(E.street, func.count()).where(op, E.street.isnot(None)).group_by(E.street)
        )
    }
    ranked = sorted(((per_street.get(c, 0), c, n) for c, n, _ in streets), reverse=True)
    top_street = ranked[0][0] if ranked else 0
    paths, map_height = street_paths(streets) if streets else ([], 0.0)
    for p in paths:
        p["share"] = _share(per_street.get(p["code"], 0), top_street)
        p["operating"] = per_street.get(p["code"], 0)
        p["href"] = link(street=p["code"], status=queries.OPERATING)
    mix: dict[str, int] = {
        str(lb): int(n) for lb, n in conn.execute(select(E.label, func.count()).where(op).group_by(E.label))
    }
    labels = list(industries.labels())
    top_mix = max(mix.values(), default=0)
    months = _months(today)
    flows = _flows(conn, months)
    separation = queries.separation(conn, "street")
    falls = _headcount_changes(conn, op, queries.abnormal(), back=1)
    growers = _headcount_changes(conn, op, queries.growing(), back=12)
    heads = _heads(conn)
    names = {c: n for c, n, _ in streets}
    return {
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "panorama": {
            "firms": totals[0],
            "operating": totals[1],
            "founded_this_year": this_year["founded"],
            "closed_this_year": this_year["closed"],
            "moved_in_this_year": this_year["moved_in"],
            "moved_out_this_year": this_year["moved_out"],
            **digest.totals(conn),
        },
        "levels": levels,
        "level_names": registrars.LEVEL_NAMES,
        "links": {
            "firms": link(),
            "operating": link(status=queries.OPERATING),
            "founded_this_year": link(founded_from=year.isoformat()),
            "closed_this_year": link(change="closed", changed_from=year.isoformat()),
            "moved_in_this_year": link(change="moved_in", changed_from=year.isoformat()),
            "moved_out_this_year": link(change="moved_out", changed_from=year.isoformat()),
            "abnormal": link(status=queries.OPERATING, abnormal="true"),
            "growing": link(status=queries.OPERATING, growing="true"),
        },
        "streets": [
            {
                "code": c,
                "name": n,
                "operating": v,
                "share": _share(v, top_street),
                "href": link(street=c, status=queries.OPERATING),
            }
            for v, c, n in ranked
        ],
        "map": {"streets": paths, "height": map_height},
        "mix": [
            {
                "label": lb,
                "operating": int(mix.get(lb, 0)),
                "share": _share(int(mix.get(lb, 0)), top_mix),
                "href": link(label=lb, status=queries.OPERATING),
            }
            for lb in labels
        ],
        "flows": [
            {
                "month": m.strftime("%Y-%m"),
                **{k: v[i] for k, v in flows.items()},
                "from": m.isoformat(),
                "to": ((m + timedelta(days=32)).replace(day=1) - timedelta(days=1)).isoformat(),
            }
            for i, m in enumerate(months)
        ],
        "flow_top": max((max(v) for v in flows.values()), default=1) or 1,
        "separation": separation,
        "separation_rows": [
            {
                **g,
                "name": g["name"] or "—",
                "href": {
                    k: link(street=g["code"], separation=k, status=queries.OPERATING) for k in g["kinds"]
                },
            }
            for g in separation["groups"]
        ],
        "separation_links": {k: link(separation=k, status=queries.OPERATING) for k in separation["kinds"]},
        "kind_names": queries.KIND_NAMES,
        "abnormal": {
            "count": len(falls),
            "zero": sum(1 for f in falls if f["now"] == 0),
            "top": falls[:10],
            "drop": queries.ABNORMAL_DROP,
        },
        "growing": {
            "count": len(growers),
            "top": growers[:10],
            "rise": queries.GROWTH_RISE,
            "min": queries.GROWTH_MIN,
        },
        "street_names": names,
        "heads": heads,
    }

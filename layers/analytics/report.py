"""The monthly analysis report: figures from the analytics, charts and a hotspot map, HTML and PDF.

Charts and the map are matplotlib SVGs with their text kept as text (the browser sets the
Chinese in Noto Sans CJK when it prints), inlined in one self-contained HTML page, which
headless Chromium prints to PDF (``api.printing``). Nothing is fetched from anywhere.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import shapely
from adjustText import adjust_text
from matplotlib.lines import Line2D
from matplotlib.patches import Patch as Swatch
from matplotlib.patches import Polygon as Patch
from sqlalchemy import Connection, Float, and_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

import web
from geo.errors import InvalidInput
from layers.analytics import aggregates, coverage, kpi, months
from layers.cases import worktime
from layers.db import sql
from layers.db.models import AREAS, ASSET_CHANGES, INCIDENTS, INSPECTIONS
from layers.grid import areas

plt.rcParams.update(
    {"svg.fonttype": "none", "font.family": ["Noto Sans CJK SC", "DejaVu Sans"], "font.size": 9}
)
REPEAT_RADIUS_M, REPEAT_DAYS = 30.0, 30


def svg_of(fig: Any) -> str:
    """A figure as inline SVG (its text kept as text), closed after."""
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def _month_window(month: str, area: str | None) -> aggregates.Window:
    first, end = months.month_range(month)
    start = datetime.combine(first, datetime.min.time(), worktime.BEIJING)
    return aggregates.Window(start, datetime.combine(end, datetime.min.time(), worktime.BEIJING), (), area)


def _repeat_cases(conn: Connection, month: str, area: str | None) -> dict[str, int]:
    """Cases in repeat locations (30 m, 30 days up to the month's end) per category."""
    window = _month_window(month, area)
    window = aggregates.Window(window.end - timedelta(days=REPEAT_DAYS), window.end, (), area)
    counts: dict[str, int] = {}
    for c in aggregates.repeats(conn, window, REPEAT_RADIUS_M, 2, limit=100_000):
        counts[c["category"]] = counts.get(c["category"], 0) + c["cases"]
    return counts


HOT_COLOURS = {"hot": "#d7301f", "cold": "#2b8cbe", "none": "#fdd49e"}
HOT_LABELS = {"hot": "热点 (Gi*, FDR 5%)", "cold": "冷点", "none": "不显著"}


def _hotspot_map(conn: Connection, hot: dict[str, Any], area: str | None) -> str:
    a = AREAS.c
    query = select(a.name, func.ST_AsBinary(a.geom)).where(
        a.generation == sql.active_generation(), a.level == "street"
    )
    if area is not None:
        query = query.where(sql.area_prefix(a.code, area))
    streets = [(name, shapely.from_wkb(bytes(wkb))) for name, wkb in conn.execute(query)]
    fig, _ = hotspot_figure(streets, hot["features"])
    return svg_of(fig)


def hotspot_figure(streets: list[tuple[str, Any]], cells: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    """The hotspot map: cells by class, street outlines, street names that do not overlap (moved
    off with a leader line where a street is too small), a legend, a scale bar and north.
    Answers the figure and the street labels (matplotlib ``Text``)."""
    fig, ax = plt.subplots(figsize=(7, 6))
    for f in cells:
        cls = f["properties"]["class"]
        ring = f["geometry"]["coordinates"][0]
        alpha = 0.9 if cls != "none" else 0.5
        ax.add_patch(Patch(ring, closed=True, facecolor=HOT_COLOURS[cls], edgecolor="none", alpha=alpha))
    labels = []
    for name, shape in streets:
        for poly in getattr(shape, "geoms", [shape]):
            x, y = poly.exterior.xy
            ax.plot(x, y, color="#1f3b63", linewidth=0.8)
        centre = shapely.get_point(shapely.maximum_inscribed_circle(shape, 1e-5), 0)
        box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75, "edgecolor": "none"}
        labels.append(ax.text(centre.x, centre.y, name, fontsize=7, ha="center", va="center",
                              color="#1f3b63", bbox=box))  # fmt: skip
    lat = float(np.mean(ax.get_ylim())) if streets else 36.1
    ax.set_aspect(1 / np.cos(np.radians(lat)))  # degrees: a degree of longitude is cos(φ) of one of latitude
    ax.axis("off")
    ax.autoscale_view()
    if labels:
        adjust_text(labels, ax=ax, expand=(1.05, 1.15), only_move={"text": "xy"}, ensure_inside_axes=True,
                    arrowprops={"arrowstyle": "-", "color": "#1f3b63", "linewidth": 0.5})  # fmt: skip
    handles: list[Any] = [Swatch(facecolor=c, label=HOT_LABELS[k]) for k, c in HOT_COLOURS.items()]
    handles.append(Line2D([], [], color="#1f3b63", linewidth=0.8, label="街道界线"))
    ax.legend(handles=handles, loc="upper left", frameon=False, fontsize=7)
    _scale_bar(ax, lat)
    ax.annotate("N", xy=(0.97, 0.97), xytext=(0.97, 0.89), xycoords="axes fraction", ha="center",
                fontsize=8, arrowprops={"arrowstyle": "-|>", "color": "#1f3b63"})  # fmt: skip
    return fig, labels


def _scale_bar(ax: Any, lat: float) -> None:
    """A 1 km bar (or 500 m on a small area) in the lower right, measured at latitude ``lat``."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    metres_per_degree = 111_320.0 * np.cos(np.radians(lat))
    length_m = 1000.0 if (x1 - x0) * metres_per_degree > 4000 else 500.0
    length = length_m / metres_per_degree
    right, bottom = x1 - 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([right - length, right], [bottom, bottom], color="#1f3b63", linewidth=2, solid_capstyle="butt")
    for x in (right - length, right):
        ax.plot([x, x], [bottom, bottom + 0.012 * (y1 - y0)], color="#1f3b63", linewidth=1)
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:.0f} m"
    ax.text(right - length / 2, bottom + 0.018 * (y1 - y0), label, ha="center", va="bottom", fontsize=7)


def _bars(rows: list[dict[str, Any]]) -> str:
    top = rows[:10]
    fig, ax = plt.subplots(figsize=(7, 3))
    y = range(len(top))
    ax.barh([i + 0.2 for i in y], [r["previous"] for r in top], height=0.4, color="#9bb7d6", label="上月")
    ax.barh([i - 0.2 for i in y], [r["count"] for r in top], height=0.4, color="#1f3b63", label="本月")
    ax.set_yticks(list(y), [r["name"] or r["category"] for r in top])
    ax.invert_yaxis()
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return svg_of(fig)


def _seasons(profile: dict[str, list[float]], names: dict[str, str], codes: list[str]) -> str:
    fig, ax = plt.subplots(figsize=(7, 2.6))
    for code in codes:
        if code in profile:
            ax.plot(range(1, 13), profile[code], marker="o", markersize=3, label=names.get(code, code))
    ax.set_xticks(range(1, 13), [f"{m}月" for m in range(1, 13)])
    if ax.lines:
        ax.legend(frameon=False, ncol=2)
    else:  # the first months of the data: no earlier year to draw a season from
        ax.text(0.5, 0.5, "此前不足一年的数据，无季节曲线", transform=ax.transAxes, ha="center", color="#666")
    ax.spines[["top", "right"]].set_visible(False)
    return svg_of(fig)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}%"


def build(conn: Connection, month: str, area: str | None = None) -> dict[str, Any]:
    """Every figure of the report for ``month`` (YYYY-MM, Beijing), optionally of one area."""
    first, end = months.month_range(month)
    if first > datetime.now(worktime.BEIJING).date():
        raise InvalidInput(f"month {month} is in the future", field="month")
    area = aggregates.check_area(conn, area)
    by_category = aggregates.trends(conn, "category", month, (), area)
    names = aggregates.category_names(conn, [r["category"] for r in by_category["results"]])
    for r in by_category["results"]:
        r["name"] = names.get(r["category"])
    by_street = aggregates.trends(conn, "street", month, (), area)
    street_names = aggregates.area_names(conn, [r["street"] for r in by_street["results"] if r["street"]])
    for r in by_street["results"]:
        r["name"] = street_names.get(r["street"], "区外/未定位")
    total = sum(r["count"] for r in by_category["results"])
    previous = sum(r["previous"] for r in by_category["results"])
    last_year = sum(r["last_year"] for r in by_category["results"])
    kpis = kpi.kpis(conn, "street", first, end)
    for r in kpis:
        r["name"] = street_names.get(r["street"]) or aggregates.area_names(conn, [r["street"]]).get(
            r["street"], "–"
        )
    if area:
        kpis = [r for r in kpis if (r["street"] or "").startswith(area[:9])]
    hot = aggregates.hotspot_cells(OrderedDict(), conn, _month_window(month, area), area, 9)
    grids = aggregates.micro_grids(conn)
    cover = []
    finished_by = min(end - timedelta(days=1), datetime.now(worktime.BEIJING).date())
    for label, kind, ev in (
        ("公共停车场 500 m（月末已建成运营）", "parking", False),
        ("其中有充电车位的 500 m", "parking", True),
    ):
        sites = aggregates.facilities(conn, kind, "operating", ev, finished_by)
        reach = coverage.compute(grids, sites, 500, "district")
        cover.append(
            {
                "label": label,
                "facilities": reach["facilities"],
                "share": reach["micro_grids"]["share"],
                "households": reach["households"]["share"],
            }
        )
    # the month's own figure: covers inspected in it (up to now for the running month)
    days = _month_window(month, area)
    inspected = aggregates.inspection_coverage(conn, 0, "street", window=(days.start, days.end))
    covers = sum(r["covers"] for r in inspected)
    repeats_now = _repeat_cases(conn, month, area)
    prev_month = by_category["previous_month"]
    repeats_before = _repeat_cases(conn, prev_month, area)
    profile = aggregates.seasonal_profile(conn, (), first)
    top_codes = [r["category"] for r in by_category["results"][:4]]
    generation = areas.require_active(conn)
    districts = "、".join(d["name"] for d in areas.names(conn, generation, "district"))
    data = {
        "month": month,
        "area": area,
        "place": areas.get_area(conn, area, generation, with_geometry=False)["name"] if area else districts,
        "generated_at": datetime.now(worktime.BEIJING).strftime("%Y-%m-%d %H:%M"),
        "partial": by_category["partial"],
        "total": total,
        "previous": previous,
        "last_year": last_year,
        "mom": _pct((total - previous) / previous * 100 if previous else None),
        "yoy": _pct((total - last_year) / last_year * 100 if last_year else None),
        "categories": by_category["results"][:15],
        "streets": by_street["results"],
        "kpis": kpis,
        "hot": hot["summary"],
        "hot_streets": _hot_streets(conn, hot),
        "coverage": cover,
        "inspection_share": sum(r["inspected"] for r in inspected) / covers if covers else 0.0,
        "inspected_covers": sum(r["inspected"] for r in inspected),
        "repeats": {"now": sum(repeats_now.values()), "before": sum(repeats_before.values())},
        "map_svg": _hotspot_map(conn, hot, area),
        "bars_svg": _bars(by_category["results"]),
        "seasons_svg": _seasons(profile, names, top_codes),
    }
    data["summary"] = _sentences(data, by_category["results"], repeats_now, repeats_before, names)
    return data


def _hot_streets(conn: Connection, hot: dict[str, Any]) -> list[str]:
    """Streets holding the most hot cells (by each hot cell's centre)."""
    centres = []
    for f in hot["features"]:
        if f["properties"]["class"] == "hot":
            ring = f["geometry"]["coordinates"][0][:-1]
            centres.append((sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)))
    if not centres:
        return []
    a = AREAS.c
    xs, ys = (literal([c[k] for c in centres], ARRAY(Float)) for k in (0, 1))
    c = func.unnest(xs, ys).table_valued("x", "y").render_derived(name="c")
    inside = func.ST_Covers(a.geom, func.ST_SetSRID(func.ST_Point(c.c.x, c.c.y), 4326))
    street = and_(a.level == "street", a.generation == sql.active_generation(), inside)
    cells = func.count().label("cells")
    query = (
        select(a.name, cells)
        .select_from(c.join(AREAS, street))
        .group_by(a.name)
        .order_by(cells.desc(), a.name)
        .limit(3)
    )
    return [name for name, _ in conn.execute(query)]


def _sentences(
    data: dict[str, Any],
    categories: list[dict[str, Any]],
    repeats_now: dict[str, int],
    repeats_before: dict[str, int],
    names: dict[str, str],
) -> list[str]:
    """A few plain sentences naming the month's main changes."""
    out = [f"{data['month']} 共受理案件 {data['total']:,} 件，环比 {data['mom']}，同比 {data['yoy']}。"]
    moving = [r for r in categories if r["previous"] >= 20 and r["change_pct"] is not None]
    if moving:
        up = max(moving, key=lambda r: r["change_pct"])
        down = min(moving, key=lambda r: r["change_pct"])
        if up["change_pct"] > 0:
            out.append(f"上升最多：{up['name']} {up['count']} 件，环比 {_pct(up['change_pct'])}。")
        if down["change_pct"] < 0:
            out.append(f"下降最多：{down['name']} {down['count']} 件，环比 {_pct(down['change_pct'])}。")
    changes = [
        (code, repeats_now.get(code, 0), before) for code, before in repeats_before.items() if before >= 5
    ]
    if changes:
        code, now, before = max(changes, key=lambda c: abs(c[1] - c[2]) / c[2])
        out.append(
            f"重复投诉（{REPEAT_RADIUS_M:.0f} m 内、{REPEAT_DAYS} 天内）：{names.get(code, code)} {now} 件，"
            f"环比 {_pct((now - before) / before * 100)}。"
        )
    if data["hot_streets"]:
        out.append(
            f"热点（Gi*，FDR 5%）{data['hot']['hot']} 个单元，集中在{'、'.join(data['hot_streets'])}。"
        )
    return out


def render_html(data: dict[str, Any]) -> str:
    return web.jinja.get_template("report.html").render(**data)


def data_version(conn: Connection) -> tuple[Any, ...]:
    """What a report is made from, in one round trip: the active generation and the state of
    cases, inspections and assets. A report is the same while this is (``api`` caches on it)."""
    cases = select(func.count(), func.max(INCIDENTS.c.updated_at)).select_from(INCIDENTS).subquery()
    checks = select(func.max(INSPECTIONS.c.id)).scalar_subquery()
    assets = select(ASSET_CHANGES.c.version).scalar_subquery()
    return tuple(conn.execute(select(sql.active_generation(), *cases.c, checks, assets)).one())

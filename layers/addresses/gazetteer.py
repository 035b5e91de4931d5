"""Standard addresses: normalising what people type, searching, reverse lookup.

People type addresses with or without the province, city, district and street,
with full-width digits, 號 for 号, spaces, and typos. The query is normalised the
same way the stored ``search`` column was, parsed into road + house number where it
can be, and answered in two passes: exact road and number first (score 1), then
trigram similarity (``pg_trgm``, GIN-indexed), ranking the typed house number above
its neighbours. pg_trgm needs a database whose ctype classifies CJK characters as
letters (C.UTF-8 or zh_CN.UTF-8, as the embedded cluster is created).

SQL: the reads are Core (pg_trgm ``%`` and ``<->`` as operators); the bulk writes of the
reference addresses and the road list stay written out (executemany, INSERT … SELECT DISTINCT).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Connection, Float, Integer, case, cast, func, select, text

from geo.errors import NotFound
from layers.db import sql
from layers.db.models import ADDRESSES, ROADS

PREFIXES = ("中华人民共和国", "中国", "山东省", "山东", "青岛市", "青岛", "市北区")
ROAD_SUFFIXES = "路|街|道|巷|里|大道|胡同|支路"
_PARSE = re.compile(rf"^(?P<road>.+?(?:{ROAD_SUFFIXES}))(?P<number>\d+(?:-\d+)?)号?(?P<rest>.*)$")
_LOOSE = re.compile(r"^(?P<road>\D+?)(?P<number>\d+(?:-\d+)?)号?(?P<rest>.*)$")  # no road suffix (typos)
_ADMIN = re.compile(r"^.{1,8}?(?:街道办事处|街道|社区居委会|社区)")


@dataclass(frozen=True)
class Query:
    """A normalised address query and what could be parsed out of it."""

    text: str
    road: str | None
    number: str | None
    building: str


def normalize(raw: str) -> str:
    """The canonical form for matching: NFKC, no spaces, 號→号, no province/city/district.

    >>> normalize(" 山东省青岛市 市北区 恩县路 ６４號 ")
    '恩县路64号'
    """
    s = unicodedata.normalize("NFKC", raw).replace("號", "号")
    s = re.sub(r"\s+", "", s).lower()
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES:
            if s.startswith(prefix) and len(s) > len(prefix):
                s, changed = s[len(prefix) :], True
    return s


def parse(raw: str) -> Query:
    """Road, house number and the rest (building, unit) of a typed address.

    >>> parse("即墨路街道恩县路64号3号楼")
    Query(text='恩县路64号3号楼', road='恩县路', number='64', building='3号楼')
    >>> parse("恩县略64号").road, parse("恩县路").road
    ('恩县略', '恩县路')
    """
    s = normalize(raw)
    stripped = _ADMIN.sub("", s, count=1)
    if _PARSE.match(stripped):
        s = stripped
    match = _PARSE.match(s) or _LOOSE.match(s)
    if match is None:
        return Query(s, s or None, None, "")
    return Query(s, match["road"], match["number"], match["rest"])


def search_text(road: str, number: str, building: str = "") -> str:
    """The stored ``search`` column of an address (same normalisation as queries)."""
    return normalize(f"{road}{number}号{building}")


# -- writing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressRecord:
    road: str
    house_number: str
    building: str
    lon: float
    lat: float


def write_addresses(
    conn: Connection, records: Iterable[AddressRecord], source: str, batch: int = 5000
) -> int:
    """Insert addresses (their display and search text derived here); returns the count."""
    sql = text(
        "INSERT INTO addresses (road, house_number, building, address, search, geom, source) VALUES "
        "(:road, :num, :building, :address, :search, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :source)"
    )
    rows: list[dict[str, Any]] = []
    count = 0
    for r in records:
        rows.append(
            {
                "road": r.road,
                "num": r.house_number,
                "building": r.building,
                "source": source,
                "address": f"市北区{r.road}{r.house_number}号{r.building}",
                "search": search_text(r.road, r.house_number, r.building),
                "lon": r.lon,
                "lat": r.lat,
            }
        )
        if len(rows) >= batch:
            conn.execute(sql, rows)
            count, rows = count + len(rows), []
    if rows:
        conn.execute(sql, rows)
        count += len(rows)
    conn.execute(text("INSERT INTO roads (name) SELECT DISTINCT road FROM addresses ON CONFLICT DO NOTHING"))
    return count


def delete_source(conn: Connection, source: str) -> None:
    conn.execute(text("DELETE FROM addresses WHERE source = :s"), {"s": source})
    conn.execute(
        text("DELETE FROM roads r WHERE NOT EXISTS (SELECT 1 FROM addresses a WHERE a.road = r.name)")
    )


# -- reading ----------------------------------------------------------------------------

A = ADDRESSES.c
_COLUMNS = (
    A.id,
    A.address,
    A.road,
    A.house_number,
    A.building,
    func.ST_X(A.geom).label("lon"),
    func.ST_Y(A.geom).label("lat"),
)


def _on_road(conn: Connection, road: str, query: Query, limit: int, certainty: float) -> list[dict[str, Any]]:
    """The doorplate itself (the typed building first), then its neighbours on the same road."""
    n = int((query.number or "1").split("-")[0])
    number = query.number or ""
    apart = func.abs(cast(func.split_part(A.house_number, "-", 1), Integer) - n)
    score = case((A.house_number == number, 1.0), else_=0.9 - func.least(apart, 400) / 1000.0)
    rows = conn.execute(
        select(*_COLUMNS, cast(score, Float).label("score"))
        .where(A.road == road)
        .order_by(
            (A.house_number == number).desc(),
            (A.building == query.building).desc(),
            apart,
            (A.building == "").desc(),
            A.building,
            A.id,
        )
        .limit(limit)
    ).mappings()
    return [{**r, "score": round(float(r["score"]) * certainty, 3)} for r in rows]


def _best_road(conn: Connection, typed: str) -> tuple[str, float] | None:
    """The road name most similar to ``typed`` (pg_trgm ``%`` through the trigram index)."""
    similarity = func.similarity(ROADS.c.name, typed)
    row = conn.execute(
        select(ROADS.c.name, cast(similarity, Float))
        .where(ROADS.c.name.op("%")(typed))
        .order_by(similarity.desc(), ROADS.c.name)
        .limit(1)
    ).first()
    return None if row is None else (str(row[0]), float(row[1]))


def _fuzzy(conn: Connection, query: Query, limit: int) -> list[dict[str, Any]]:
    """Trigram candidates through the GIN index (``%``), the typed house number ranked first."""
    similarity = func.similarity(A.search, query.text)
    rows = conn.execute(
        select(*_COLUMNS, cast(similarity, Float).label("score"))
        .where(A.search.op("%")(query.text))
        .order_by(
            (A.house_number == (query.number or "")).desc(), similarity.desc(), (A.building == "").desc()
        )
        .order_by(A.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def geocode(conn: Connection, raw: str, limit: int = 5) -> list[dict[str, Any]]:
    """Addresses best matching ``raw``, best first, each with a ``score`` in 0..1.

    The road as typed, or else the most similar road name (a typo, a missing
    character): the typed doorplate and then its neighbours on that road, scored down
    by how unsure the road was. No road recognised: trigram similarity over all
    addresses, the typed house number first. Similarity means pg_trgm's ``%`` at its
    threshold (``pg_trgm.similarity_threshold``, 0.3 unless the server changed it).
    """
    query = parse(raw)
    if not query.text:
        return []
    if query.road:
        rows = _on_road(conn, query.road, query, limit, 1.0)  # one round trip for a known road
        if rows:
            return rows
        best = _best_road(conn, query.road)
        if best is not None:
            return _on_road(conn, best[0], query, limit, best[1])
    return _fuzzy(conn, query, limit)


def reverse(conn: Connection, lon: float, lat: float, limit: int = 5) -> list[dict[str, Any]]:
    """Nearest addresses to a WGS84 point, with ``distance_m``.

    Candidates by the GiST index (``<->`` on points), then exact metres on the spheroid."""
    candidates = (
        select(*_COLUMNS, sql.distance_m(A.geom, lon, lat).label("m"))
        .order_by(A.geom.op("<->")(sql.point(lon, lat)))
        .limit(max(limit * 10, 50))
        .subquery()
    )
    rows = conn.execute(select(candidates).order_by(candidates.c.m).limit(limit)).mappings()
    return [{**{k: v for k, v in r.items() if k != "m"}, "distance_m": round(float(r["m"]), 2)} for r in rows]


def points_of(rows: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    return [r["lon"] for r in rows], [r["lat"] for r in rows]


def as_point(row: dict[str, Any]) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.Point(round(row["lon"], 8), round(row["lat"], 8)))


def _feature_columns(digits: int) -> tuple[Any, ...]:
    geojson = func.ST_AsGeoJSON(A.geom, digits).label("geojson")
    return (A.id, A.address, A.road, A.house_number, A.building, A.source, geojson)


def query_features(
    conn: Connection,
    *,
    bbox: tuple[float, float, float, float] | None,
    road: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Standard addresses as feature rows (with ``geojson``) and how many match, by id."""
    where = []
    if bbox is not None:
        where.append(sql.bbox_filter(A.geom, bbox))
    if road is not None:
        where.append(A.road == road)
    matched = conn.execute(select(func.count()).select_from(ADDRESSES).where(*where)).scalar_one()
    query = select(*_feature_columns(7)).where(*where).order_by(A.id).limit(limit).offset(offset)
    return [dict(r) for r in conn.execute(query).mappings()], int(matched)


def feature_row(conn: Connection, address_id: str) -> dict[str, Any]:
    """One standard address as a feature row (``NotFound`` when there is none)."""
    row = None
    if address_id.isdigit():
        row = conn.execute(select(*_feature_columns(7)).where(A.id == int(address_id))).mappings().first()
    if row is None:
        raise NotFound(f"no address {address_id}", field="featureId")
    return dict(row)


def extent(conn: Connection) -> list[float] | None:
    """The bounding box of the standard addresses."""
    return sql.extent(conn, A.geom)

"""Standard addresses: normalising what people type, searching, reverse lookup.

People type addresses with or without the province, city, district and street,
with full-width digits, 號 for 号, spaces, and typos. The query is normalised the
same way the stored ``search`` column was, parsed into road + house number where it
can be, and answered in two passes: exact road and number first (score 1), then
trigram similarity (``pg_trgm``, GIN-indexed), ranking the typed house number above
its neighbours. pg_trgm needs a database whose ctype classifies CJK characters as
letters (C.UTF-8 or zh_CN.UTF-8, as the embedded cluster is created).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Connection, text

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

_COLUMNS = "id, address, road, house_number, building, ST_X(geom) AS lon, ST_Y(geom) AS lat"

# The doorplate itself (the typed building first), then its neighbours on the same road.
_ON_ROAD = f"""
SELECT {_COLUMNS},
       CASE WHEN house_number = :number THEN 1.0
            ELSE 0.9 - least(abs(split_part(house_number, '-', 1)::int - :n), 400) / 1000.0
       END::float8 AS score
FROM addresses WHERE road = :road
ORDER BY (house_number = :number) DESC, (building = :building) DESC,
         abs(split_part(house_number, '-', 1)::int - :n), building = '' DESC, building, id
LIMIT :limit
"""

# Trigram candidates through the GIN index (%), the typed house number ranked first.
_FUZZY = f"""
SELECT {_COLUMNS}, similarity(search, :q)::float8 AS score FROM addresses
WHERE search % :q
ORDER BY (house_number = :number) DESC, similarity(search, :q) DESC, (building = '') DESC, id
LIMIT :limit
"""


_BEST_ROAD = """
SELECT name, similarity(name, :q)::float8 AS s FROM roads
WHERE name % :q ORDER BY s DESC, name LIMIT 1
"""


def _on_road(conn: Connection, road: str, query: Query, limit: int, certainty: float) -> list[dict[str, Any]]:
    n = int((query.number or "1").split("-")[0])
    params = {"road": road, "number": query.number or "", "n": n, "building": query.building, "limit": limit}
    rows = [dict(r) for r in conn.execute(text(_ON_ROAD), params).mappings()]
    for r in rows:
        r["score"] = round(r["score"] * certainty, 3)
    return rows


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
        best = conn.execute(text(_BEST_ROAD), {"q": query.road}).first()
        if best is not None:
            return _on_road(conn, best[0], query, limit, float(best[1]))
    params = {"q": query.text, "number": query.number or "", "limit": limit}
    return [dict(r) for r in conn.execute(text(_FUZZY), params).mappings()]


# Candidates by the GiST index (<-> on points), then exact metres on the spheroid.
_REVERSE = f"""
SELECT * FROM (
  SELECT {_COLUMNS}, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS m
  FROM addresses ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT :candidates
) c ORDER BY m LIMIT :limit
"""


def reverse(conn: Connection, lon: float, lat: float, limit: int = 5) -> list[dict[str, Any]]:
    """Nearest addresses to a WGS84 point, with ``distance_m``."""
    params = {"lon": lon, "lat": lat, "limit": limit, "candidates": max(limit * 10, 50)}
    rows = conn.execute(text(_REVERSE), params).mappings()
    return [{**{k: v for k, v in r.items() if k != "m"}, "distance_m": round(float(r["m"]), 2)} for r in rows]


def points_of(rows: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    return [r["lon"] for r in rows], [r["lat"] for r in rows]


def as_point(row: dict[str, Any]) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.Point(round(row["lon"], 8), round(row["lat"], 8)))

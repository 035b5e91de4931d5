"""The gazetteer: standard addresses and named places; geocoding and reverse lookup.

A typed address is taken apart first (``layers.addresses.parsing``: numerals, sub-numbers,
building/unit/room, the region dropped); then answered in the order ``geocode`` gives,
every candidate saying how it matched (``exact``, ``house_near``, ``road``, ``fuzzy``).
Only the first two locate a case by themselves: a road alone, a guessed road, a place
name two communities share, or a road of another district goes to a dispatcher, never
silently to a street. Similarity is pg_trgm (GIN-indexed); pg_trgm needs a database whose
ctype classifies CJK characters as letters (C.UTF-8 or zh_CN.UTF-8, as the embedded
cluster is created).

SQL: the reads are Core (pg_trgm ``%`` and ``<->`` as operators); the bulk writes of the
reference addresses, places and the road list stay written out (executemany, INSERT …
SELECT DISTINCT).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Connection, Float, Integer, Text, and_, cast, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from geo.errors import NotFound
from layers.addresses.parsing import HOME, Parsed, after_place, normalize, parse, search_text
from layers.db import sql
from layers.db.models import ADDRESSES, AREAS, PLACE_NAMES, PLACES, ROADS
from layers.db.vocabulary import TRUSTED_MATCHES

# -- writing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressRecord:
    road: str
    house_number: str
    building: str
    lon: float
    lat: float


def write_addresses(
    conn: Connection,
    records: Iterable[AddressRecord],
    source: str,
    district: tuple[str, str],
    batch: int = 5000,
) -> int:
    """Insert the addresses of ``district`` (code, name), their display and search text derived
    here; returns the count."""
    sql = text(
        "INSERT INTO addresses (road, house_number, building, address, search, geom, source, district) "
        "VALUES (:road, :num, :building, :address, :search, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
        ":source, :district)"
    )
    code, name = district
    rows: list[dict[str, Any]] = []
    count = 0
    for r in records:
        rows.append(
            {
                "road": r.road,
                "num": r.house_number,
                "building": r.building,
                "source": source,
                "district": code,
                "address": f"{name}{r.road}{r.house_number}号{r.building}",
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


@dataclass(frozen=True)
class PlaceRecord:
    name: str
    kind: str
    aliases: tuple[str, ...]
    lon: float
    lat: float
    road: str | None = None  # the doorplate it stands at, when it has one
    house_number: str | None = None
    generated: bool = True


def write_places(conn: Connection, records: Iterable[PlaceRecord], source: str) -> int:
    """Insert places and every one of their names (normalised); returns how many places. A place's
    doorplate is the one of its road and number written from the same ``source``."""
    count = 0
    for r in records:
        place_id = conn.execute(
            text(
                "INSERT INTO places (name, kind, aliases, address_id, geom, generated, source) VALUES "
                "(:name, :kind, :aliases, (SELECT id FROM addresses WHERE road = :road "
                "AND house_number = :num AND building = '' AND source = :source LIMIT 1), "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :generated, :source) RETURNING id"
            ),
            {
                "name": r.name, "kind": r.kind, "aliases": list(r.aliases), "road": r.road,
                "num": r.house_number, "lon": r.lon, "lat": r.lat, "generated": r.generated,
                "source": source,
            },
        ).scalar_one()  # fmt: skip
        names = sorted({normalize(n) for n in (r.name, *r.aliases)})
        conn.execute(
            text("INSERT INTO place_names (place_id, search) VALUES (:p, :s)"),
            [{"p": place_id, "s": n} for n in names],
        )
        count += 1
    return count


def delete_places(conn: Connection, source: str) -> None:
    conn.execute(text("DELETE FROM places WHERE source = :s"), {"s": source})


# -- reading ----------------------------------------------------------------------------

A_TABLE = ADDRESSES
A = ADDRESSES.c
PL = PLACES.c
PN = PLACE_NAMES.c
_COLUMNS = (
    A.id,
    A.address,
    A.road,
    A.house_number,
    A.building,
    A.district,
    func.ST_X(A.geom).label("lon"),
    func.ST_Y(A.geom).label("lat"),
)


NEAR_NUMBERS = 20  # a doorplate this many numbers away is "house_near"; farther, only the road matched
_PLACE_COLUMNS = (
    PL.id.label("place_id"),
    PL.name,
    PL.kind,
    PL.generated,
    func.ST_X(PL.geom).label("lon"),
    func.ST_Y(PL.geom).label("lat"),
)


@dataclass
class Geocoding:
    """The answer to one typed address: candidates best first, and how far to trust them.

    ``outside`` says why nothing in the district was offered (another district named, a
    road of another district); ``ambiguous`` that two equally good candidates are different
    places (a name two communities share): none is chosen for the caller."""

    parsed: Parsed
    results: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: bool = False
    outside: str | None = None
    elsewhere: str | None = None  # the other district the address is in

    @property
    def trusted(self) -> dict[str, Any] | None:
        """The candidate a case may be located at without a dispatcher looking, if any."""
        if self.ambiguous or self.outside or not self.results:
            return None
        best = self.results[0]
        return best if best["match"] in TRUSTED_MATCHES else None


@cache
def roads_elsewhere() -> dict[str, str]:
    """Real roads of Qingdao's other districts (road → district) that no 市北区 address is on."""
    with (Path(__file__).parent / "roads_elsewhere.csv").open(encoding="utf-8") as f:
        return {row["road"]: row["district"] for row in csv.DictReader(f)}


def _on_road(
    conn: Connection, road: str, parsed: Parsed, limit: int, certainty: float | None, district: str | None
) -> list[dict[str, Any]]:
    """Doorplates on ``road`` (in ``district``, if given): the typed one (the typed building first),
    then its neighbours.

    ``certainty`` None: the road is known as typed; a number is how similar a guessed road is."""
    number = parsed.number or ""
    if parsed.number is None:  # the road alone: its doorplates from the lowest number on
        apart: Any = cast(func.split_part(A.house_number, "-", 1), Integer)
        same: Any = A.building == ""
    else:
        apart = func.abs(cast(func.split_part(A.house_number, "-", 1), Integer) - int(number))
        same = A.house_number == number
    rows = conn.execute(
        select(*_COLUMNS, apart.label("apart"))
        .where(A.road == road, *([A.district == district] if district else []))
        .order_by(same.desc(), (A.building == parsed.building).desc(), apart, (A.building == "").desc())
        .order_by(A.building, A.id)
        .limit(limit)
    ).mappings()
    out = []
    exact_door = parsed.number is not None and not parsed.prefix and not parsed.sub
    for r in rows:
        row = {k: v for k, v in r.items() if k != "apart"}
        difference = int(r["apart"]) if parsed.number is not None else None
        if certainty is not None:
            match, score = "fuzzy", certainty * (0.9 - min(difference or 0, 400) / 1000)
        elif difference is None or difference > NEAR_NUMBERS:
            match, score = "road", 0.5
        elif difference == 0 and exact_door:
            match, score = "exact", 1.0
        else:
            match, score = "house_near", 0.9 - difference / 1000
            row["number_difference"] = difference
        out.append({**row, "match": match, "score": round(score, 3)})
    return out


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


def _place_rows(conn: Connection, where: Any, score: Any, limit: int) -> list[dict[str, Any]]:
    """Places matching ``where`` (on their names) with the doorplate they stand at."""
    best = (
        select(PN.place_id, func.max(score).label("score"), func.max(func.length(PN.search)).label("length"))
        .where(where)
        .group_by(PN.place_id)
        .subquery()
    )
    rows = conn.execute(
        select(*_PLACE_COLUMNS, best.c.score, best.c.length, A.road, A.house_number, A.district)
        .join(best, best.c.place_id == PL.id)
        .outerjoin(ADDRESSES, A.id == PL.address_id)
        .order_by(best.c.length.desc(), best.c.score.desc(), PL.name, PL.id)
        .limit(limit)
    ).mappings()
    return [
        {
            "id": None,
            "address": r["name"],
            "road": r["road"] or "",
            "house_number": r["house_number"] or "",
            "building": "",
            "district": r["district"],
            "lon": r["lon"],
            "lat": r["lat"],
            "score": round(float(r["score"]), 3),
            "length": r["length"],
            "place": {"name": r["name"], "kind": r["kind"], "generated": r["generated"]},
        }
        for r in rows
    ]


PLACE_NAMES_TTL_S = 60.0  # a place added to the gazetteer is found by name within a minute
_names: tuple[float, frozenset[str]] = (float("-inf"), frozenset())


def _place_names(conn: Connection) -> frozenset[str]:
    """Every place name and alias (normalised), read at most once a minute per process: most
    queries are doorplates, and this spares them a round trip to learn that no place matches."""
    global _names
    if time.monotonic() - _names[0] > PLACE_NAMES_TTL_S:
        _names = (time.monotonic(), frozenset(conn.execute(select(PN.search).distinct()).scalars()))
    return _names[1]


def _place_prefixes(text_: str, known: frozenset[str]) -> list[str]:
    return [p for p in (text_[:k] for k in range(2, len(text_) + 1)) if p in known]


def _named_place(conn: Connection, text_: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Places whose name (or alias) begins the query: the longest name wins; two places of
    that name are ambiguous. The prefixes are checked in memory, the hits read by the index."""
    prefixes = _place_prefixes(text_, _place_names(conn))
    if not prefixes:
        return [], False
    rows = _place_rows(conn, PN.search.in_(prefixes), literal(1.0), limit)
    if not rows:
        return [], False
    longest = [r for r in rows if r["length"] == rows[0]["length"]]
    for r in longest:
        r["match"] = "exact"
    return longest, len(longest) > 1


def _fuzzy(conn: Connection, parsed: Parsed, limit: int, district: str | None) -> list[dict[str, Any]]:
    """Trigram candidates among doorplates (of ``district``, if given) and place names (GIN
    indexes, ``%``), best first."""
    similarity = func.similarity(A.search, parsed.text)
    doors = conn.execute(
        select(*_COLUMNS, cast(similarity, Float).label("score"))
        .where(A.search.op("%")(parsed.text), *([A.district == district] if district else []))
        .order_by((A.house_number == (parsed.number or "")).desc(), similarity.desc())
        .order_by((A.building == "").desc(), A.id)
        .limit(limit)
    ).mappings()
    places = _place_rows(conn, PN.search.op("%")(parsed.text), func.similarity(PN.search, parsed.text), limit)
    rows = [{**dict(r), "score": round(float(r["score"]) * 0.9, 3)} for r in doors]
    rows += [{**r, "score": round(r["score"] * 0.9, 3)} for r in places]
    return [{**r, "match": "fuzzy"} for r in sorted(rows, key=lambda r: -r["score"])[:limit]]


def _named_elsewhere(answer: Geocoding, loaded: dict[str, str]) -> bool:
    """Whether the address names a district the gazetteer does not hold (``answer`` then says so)."""
    named = answer.parsed.district
    if named is None or named in loaded or (not loaded and named == HOME):
        return False
    answer.outside = f"the address is in {named}, not in the district's gazetteer"
    answer.elsewhere = named
    return True


def geocode(conn: Connection, raw: str, limit: int = 5) -> Geocoding:
    """Addresses and places best matching ``raw``, best first, each with its ``match`` and ``score``.

    In order: another district named → nothing offered (``outside``); a place whose name
    or alias begins the text → that place (``exact``; two of one name → ``ambiguous``); the
    road as typed → the typed doorplate (``exact``), the nearest number on it
    (``house_near`` with ``number_difference``) or, without a usable number, the road
    (``road``); a real road of another district → ``outside``; else the most similar road
    name, or trigram similarity over everything (``fuzzy``). Similarity is pg_trgm's ``%``
    at its threshold (0.3 unless the server changed it).
    """
    parsed = parse(raw)
    answer = Geocoding(parsed)
    if not parsed.text:
        return answer
    district = None
    if parsed.district is not None:  # a district named: its addresses alone, or none if it is not ours
        loaded = _districts(conn)
        district = loaded.get(parsed.district)
        if _named_elsewhere(answer, loaded):
            return answer
    answer.results, answer.ambiguous = _named_place(conn, parsed.text, limit)
    if answer.results:
        name = answer.results[0]["place"]["name"]
        answer.parsed = after_place(parsed.text, name, answer.results[0]["length"])
        return answer
    if parsed.road:
        answer.results = _on_road(conn, parsed.road, parsed, limit, None, district)  # one round trip
        if answer.results:
            best = answer.results[0]["match"]
            # the same doorplate in two districts (宁夏路 runs through both): none is chosen
            answer.ambiguous = len({r["district"] for r in answer.results if r["match"] == best}) > 1
            return answer
        elsewhere = roads_elsewhere().get(parsed.road)
        if elsewhere is not None:
            answer.outside = f"{parsed.road} is a road of {elsewhere}, not of the district"
            answer.elsewhere = elsewhere
            return answer
        best = _best_road(conn, parsed.road)
        if best is not None:
            answer.results = _on_road(conn, best[0], parsed, limit, best[1], district)
            return answer
    answer.results = _fuzzy(conn, parsed, limit, district)
    return answer


def _door_only(parsed: Parsed, place_names: frozenset[str]) -> bool:
    """Whether ``geocode`` would answer ``parsed`` from its road and doorplate alone: a plain
    number on a road, and no place name beginning the text (a place is looked up first)."""
    if not parsed.road or parsed.number is None or parsed.prefix or parsed.sub:
        return False
    return not _place_prefixes(parsed.text, place_names)


def geocode_many(conn: Connection, texts: list[str]) -> list[Geocoding]:
    """``geocode`` of each text, for a register's hundreds of thousands of addresses at once.

    Each distinct text is answered once. One that names a district the gazetteer does not
    hold is ``outside`` as ``geocode`` says; one that names a doorplate found as typed
    (``geocode``'s exact match) is answered from one joined query for all of them, with the
    same candidate order, district rule and ambiguity; every other text (a place, a near
    number, a road, a fuzzy guess) goes through ``geocode`` itself. Only the best candidate
    is kept."""
    unique = list(dict.fromkeys(texts))
    parsed = [parse(t) for t in unique]
    loaded = _districts(conn)
    names = _place_names(conn)
    answers: dict[int, Geocoding] = {}
    door: dict[int, str] = {}  # position → the district the text restricts to ("" none)
    for i, p in enumerate(parsed):
        answer = Geocoding(p)
        if not p.text or _named_elsewhere(answer, loaded):
            answers[i] = answer
        elif _door_only(p, names):
            door[i] = loaded.get(p.district or "", "")
    found: dict[int, list[dict[str, Any]]] = {}
    if door:
        keys = list(door)
        q = select(
            func.unnest(literal(keys, ARRAY(Integer))).label("i"),
            func.unnest(literal([parsed[i].road for i in keys], ARRAY(Text))).label("road"),
            func.unnest(literal([parsed[i].number for i in keys], ARRAY(Text))).label("number"),
            func.unnest(literal([door[i] for i in keys], ARRAY(Text))).label("district"),
        ).subquery()
        rows = conn.execute(
            select(q.c.i, *_COLUMNS)
            .join(A_TABLE, and_(A.road == q.c.road, A.house_number == q.c.number))
            .where(or_(q.c.district == "", A.district == q.c.district))
        ).mappings()
        for r in rows:
            found.setdefault(r["i"], []).append({k: v for k, v in r.items() if k != "i"})
    for i, p in enumerate(parsed):
        if i in answers:
            continue
        hits = found.get(i)
        if not hits:
            answers[i] = geocode(conn, unique[i], limit=1)
            continue
        hits.sort(key=lambda r: (r["building"] != p.building, r["building"] != "", r["building"], r["id"]))
        ambiguous = len({r["district"] for r in hits}) > 1  # 宁夏路 64号 in two districts
        answers[i] = Geocoding(p, [{**hits[0], "match": "exact", "score": 1.0}], ambiguous=ambiguous)
    position = {t: i for i, t in enumerate(unique)}
    return [answers[position[t]] for t in texts]


def _districts(conn: Connection) -> dict[str, str]:
    """Name → code of the active generation's districts."""
    rows = conn.execute(
        select(AREAS.c.name, AREAS.c.code).where(
            AREAS.c.generation == sql.active_generation(), AREAS.c.level == "district"
        )
    )
    return {name: code for name, code in rows}


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
    district: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Standard addresses as feature rows (with ``geojson``) and how many match, by id."""
    where = [] if district is None else [A.district == district]
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

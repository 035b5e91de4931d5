"""Writing the register: each firm's two addresses geocoded (the gazetteer) and located (the
micro-grid index), then the firms, their register changes and headcounts written with COPY.

An address is kept located only when the geocoder trusts it (an exact doorplate or a near
number): a road alone, a fuzzy guess or two places of one name leave it ``unresolved``
with no point (a steward's list), never a guessed one; an address in a district the
platform does not hold is ``outside`` with that district's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from layers.addresses.gazetteer import Geocoding, geocode_many
from layers.db import sql
from layers.enterprises.queries import name_pairs
from layers.grid.index import AreaIndex

NEAR_GRID_M = 30.0  # a doorplate this close outside every micro-grid takes the nearest one


@dataclass(frozen=True)
class Placed:
    """One address as the geocoder and the locator left it."""

    match: str  # vocabulary.ADDRESS_OUTCOMES
    address_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    micro_grid: str | None = None
    elsewhere: str | None = None  # the district named, when it is not on the platform

    @property
    def ewkt(self) -> str | None:
        return None if self.lon is None else f"SRID=4326;POINT({self.lon} {self.lat})"


def _outcome(found: Geocoding) -> Placed:
    if found.outside:
        return Placed("outside", elsewhere=found.elsewhere)
    if not found.results:
        return Placed("none")
    if found.ambiguous:
        return Placed("ambiguous")
    best = found.results[0]
    if found.trusted is None:
        return Placed(best["match"])
    return Placed(best["match"], int(best["id"]), float(best["lon"]), float(best["lat"]))


def place_addresses(conn: Connection, index: AreaIndex, texts: Sequence[str]) -> list[Placed]:
    """Geocode and locate ``texts`` (a register's addresses), in order."""
    answers = geocode_many(conn, list(texts))
    outcomes = {id(found): _outcome(found) for found in answers}  # a text repeated is one answer
    placed = [outcomes[id(found)] for found in answers]
    have = [i for i, p in enumerate(placed) if p.lon is not None]
    if not have:
        return placed
    lon = np.array([placed[i].lon for i in have], dtype=float)
    lat = np.array([placed[i].lat for i in have], dtype=float)
    located = index.locate(lon, lat)
    for k, i in enumerate(have):
        if located.inside[k] or located.distance_m[k] <= NEAR_GRID_M:
            p = placed[i]
            placed[i] = Placed(p.match, p.address_id, p.lon, p.lat, index.codes[int(located.index[k])])
    return placed


FIRM_COLUMNS = (
    "credit_code", "name", "legal_form", "industry", "label", "capital", "founded", "status", "status_on",
    "moved_in_on", "district", "registrar", "reg_address", "op_address", "legal_rep", "phone", "generated",
    "source",
)  # fmt: skip
PLACED_COLUMNS = ("match", "address_id", "geom", "micro_grid", "elsewhere")


def _placed_row(p: Placed) -> tuple[Any, ...]:
    return (p.match, p.address_id, p.ewkt, p.micro_grid, p.elsewhere)


CLOSING = {"注销": "deregistered", "吊销": "revoked", "迁出": "moved_out"}  # status → the change


def write_firms(
    conn: Connection,
    index: AreaIndex,
    firms: Sequence[dict[str, Any]],
    events: Iterable[tuple[str, str, date]] = (),
    headcounts: Iterable[tuple[str, date, list[int]]] = (),
    *,
    upsert: bool = False,
) -> list[Placed]:
    """Insert ``firms`` (dicts of ``FIRM_COLUMNS``) with their addresses placed, then their
    register changes and headcounts; in the caller's transaction (all or nothing). With
    ``upsert`` a firm already there is updated in place (its visits, changes and headcounts
    stay) and a change already recorded is skipped. Answers the registered addresses' places
    and then the operating ones'."""
    placed = place_addresses(
        conn, index, [f["reg_address"] for f in firms] + [f["op_address"] for f in firms]
    )
    reg, op = placed[: len(firms)], placed[len(firms) :]
    columns = (
        *FIRM_COLUMNS,
        "name_pairs",
        *(f"reg_{c}" for c in PLACED_COLUMNS),
        *(f"op_{c}" for c in PLACED_COLUMNS),
    )
    rows = (
        (*(f[c] for c in FIRM_COLUMNS), name_pairs(f["name"]), *_placed_row(r), *_placed_row(o))
        for f, r, o in zip(firms, reg, op, strict=True)
    )
    if not upsert:
        sql.copy_rows(conn, "enterprises", columns, rows)
        sql.copy_rows(conn, "enterprise_events", ("credit_code", "kind", '"on"'), events)
        sql.copy_rows(conn, "enterprise_headcounts", ("credit_code", "first_month", "counts"), headcounts)
        return placed
    # a staging table, then one INSERT … ON CONFLICT: COPY itself cannot update
    names = ", ".join(columns)  # our own column names
    conn.execute(
        text(f"CREATE TEMP TABLE stage_firms ON COMMIT DROP AS SELECT {names} FROM enterprises LIMIT 0")  # noqa: S608
    )
    sql.copy_rows(conn, "stage_firms", columns, rows)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "credit_code")
    conn.execute(
        text(
            f"INSERT INTO enterprises ({names}) SELECT {names} FROM stage_firms "  # noqa: S608 (our names)
            f"ON CONFLICT (credit_code) DO UPDATE SET {updates}, updated_at = now()"
        )
    )
    conn.execute(text("DROP TABLE stage_firms"))
    changes = [{"c": c, "k": k, "d": d} for c, k, d in events]
    if changes:
        conn.execute(
            text(
                'INSERT INTO enterprise_events (credit_code, kind, "on") VALUES (:c, :k, :d) '
                "ON CONFLICT DO NOTHING"
            ),
            changes,
        )
    return placed

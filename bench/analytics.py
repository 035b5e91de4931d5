"""Hotspots on 1,000,000 cases and coverage, beside PySAL esda and plain PostGIS in the same run."""

from __future__ import annotations

import time
import warnings
from collections import OrderedDict
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Engine, text

from bench.timing import median_time
from geo import coverage, hexes
from geo.crs import reach_deg
from geo.hotspots import gi_star
from layers.analytics import aggregates

TARGET = 1_000_000


def add_cases(engine: Engine, n_total: int = TARGET) -> int:
    """Copy located cases until the table holds ``n_total`` (jittered copies of the reference ones)."""
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
        lon, lat = np.array(
            conn.execute(text("SELECT ST_X(point), ST_Y(point) FROM incidents WHERE point IS NOT NULL")).all()
        ).T
    missing = n_total - have
    if missing <= 0:
        return have
    rng = np.random.default_rng(5)
    pick = rng.integers(0, lon.size, missing)
    x = lon[pick] + rng.normal(0, 0.0008, missing)
    y = lat[pick] + rng.normal(0, 0.0006, missing)
    cells = hexes.cells(x, y)
    when = datetime(2024, 1, 1, tzinfo=UTC).timestamp() + rng.uniform(0, 2.8 * 365 * 86400, missing)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = 0")  # a million rows: longer than a request may take
            columns = "number, source, category, point, h3, located_by, unit, routed_by, status, received_at, " \
                "warn_at, deadline, escalate_at"  # fmt: skip
            with cur.copy(f"COPY incidents ({columns}) FROM STDIN") as copy:
                for i in range(missing):
                    at = datetime.fromtimestamp(float(when[i]), UTC)
                    copy.write_row(
                        (f"B{have + i:09d}", "wechat", "E0501", f"SRID=4326;POINT({float(x[i])!r} {float(y[i])!r})", int(cells[i]),
                         "coordinates", "370203", "territory", "closed", at, at, at, at)
                    )  # fmt: skip
        conn.execute(text("ANALYZE incidents"))
    return n_total


def bench_hotspots(engine: Engine) -> list[str]:
    import esda
    import libpysal

    n = add_cases(engine)
    window = aggregates.Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    with engine.connect() as conn:
        t = time.perf_counter()
        cold = aggregates.hotspot_cells(OrderedDict(), conn, window, None, 9)
        cold_s = time.perf_counter() - t
        kept: OrderedDict = OrderedDict()
        aggregates.study(kept, conn, None, 9, 1)
        warm_s = median_time(lambda: aggregates.hotspot_cells(kept, conn, window, None, 9))
        count_s = median_time(
            lambda: conn.execute(
                text(f"SELECT {hexes.parent_sql('h3', 9)}, count(*) FROM incidents GROUP BY 1")
            ).all()
        )
        cells, weights = kept[next(iter(kept))]
        found, counts = aggregates.cell_counts(conn, window, 9)
    values = np.zeros(cells.size)
    values[np.searchsorted(cells, found)] = counts
    no_self = sp.csr_matrix(weights - sp.diags(weights.diagonal()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.WSP(no_self).to_W(silence_warnings=True)
        esda_s = median_time(lambda: esda.G_Local(values, w, transform="B", star=True, permutations=0))
    ours_s = median_time(lambda: gi_star(values, weights))
    return [
        f"{n:,} located cases (the reference ones and jittered copies), H3 resolution 9, one ring, "
        f"all categories and dates: {cells.size:,} cells, {cold['summary']['hot']} hot.",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| PostgreSQL `GROUP BY` of the cases to res-9 cells alone — floor | {count_s:.3f} |",
        f"| **hotspots, study area and weights cached (as a worker serves them)** | **{warm_s:.3f}** |",
        f"| hotspots, first call (study area polyfill and weights built) | {cold_s:.3f} |",
        f"| Gi* statistic alone, PySAL `esda.G_Local(star=True, permutations=0)` — baseline | {esda_s:.4f} |",
        f"| Gi* statistic alone, `geo.hotspots.gi_star` (same z to 1e-15) | {ours_s:.4f} |",
    ]


def bench_coverage(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        grids = aggregates.micro_grids(conn)
        sites = aggregates.facilities(conn, "manhole_cover", None, False)
        lon = [g["lon"] for g in grids]
        lat = [g["lat"] for g in grids]

        def ours() -> int:
            d, _ = coverage.nearest_m(lon, lat, [s[1] for s in sites], [s[2] for s in sites])
            return int((d <= 100).sum())

        dx, dy = reach_deg(36.2, 100)  # a box that holds every point within 100 m at these latitudes

        def postgis() -> int:
            # the index narrows by a box in degrees, geography decides in metres
            return conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT ST_PointOnSurface(geom) AS p FROM areas WHERE generation = "
                    "(SELECT id FROM generations WHERE status = 'active') AND level = 'micro_grid') m "
                    "WHERE EXISTS (SELECT 1 FROM assets a WHERE a.kind = 'manhole_cover' "
                    "AND a.point && ST_Expand(m.p, :dx, :dy) "
                    "AND ST_DWithin(a.point::geography, m.p::geography, 100))"
                ),
                {"dx": dx, "dy": dy},
            ).scalar_one()

        ours_n, pg_n = ours(), postgis()
        ours_s, pg_s = median_time(ours), median_time(postgis)
    return [
        f"{len(grids):,} micro-grids × {len(sites):,} manhole covers, radius 100 m (straight line).",
        "",
        "| what | seconds | micro-grids covered |",
        "|---|---:|---:|",
        f"| PostGIS `EXISTS (… point && box AND ST_DWithin(geography))`, GiST index — baseline | {pg_s:.3f} | {pg_n:,} |",
        f"| **`geo.coverage` k-d tree in the Gauss–Krüger plane** | **{ours_s:.3f}** | {ours_n:,} |",
    ]

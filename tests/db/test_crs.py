"""Coordinate systems: the projected ones agree with PostGIS's ST_Transform."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo import crs


@pytest.mark.parametrize("epsg", ["EPSG:3857", "EPSG:4549", "EPSG:4528"])
def test_epsg_systems_agree_with_postgis(conn: Connection, epsg: str) -> None:
    lon, lat = 120.3791, 36.0962
    srid = int(epsg.split(":")[1])
    x, y = conn.execute(
        text("SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_Point(:x, :y), 4326), :s) AS g"),
        {"x": lon, "y": lat, "s": srid},
    ).one()
    assert crs.from_wgs84(lon, lat, epsg) == pytest.approx((x, y), abs=1e-3)

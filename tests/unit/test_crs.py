"""Coordinate systems: reference values, an independent implementation, round trips."""

from __future__ import annotations

import numpy as np
import pytest
from coord_convert import transform as reference
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import crs
from geo.errors import InvalidCoordinates, UnknownCRS

SHIBEI = st.tuples(st.floats(120.28, 120.45), st.floats(36.05, 36.18))
CHINA = st.tuples(st.floats(73.0, 135.0), st.floats(18.0, 53.0))


def test_published_vectors() -> None:
    assert crs.wgs84_to_bd09(116.403988, 39.914266) == pytest.approx(
        (116.41661560068297, 39.92196580126834), abs=1e-12
    )
    lon, lat = crs.gcj02_to_wgs84(123.0, 45.0)
    assert (float(lon), float(lat)) == pytest.approx((122.99395581, 44.99804062), abs=5e-9)


@settings(max_examples=300, deadline=None)
@given(CHINA)
def test_forward_equals_an_independent_implementation(p: tuple[float, float]) -> None:
    assert crs.wgs84_to_gcj02(*p) == pytest.approx(reference.wgs2gcj(*p), abs=1e-11)
    assert crs.wgs84_to_bd09(*p) == pytest.approx(reference.wgs2bd(*p), abs=1e-11)


@settings(max_examples=300, deadline=None)
@given(CHINA)
def test_iterative_inverses_are_exact_under_the_independent_forward(p: tuple[float, float]) -> None:
    w = crs.gcj02_to_wgs84(*p)
    assert reference.wgs2gcj(float(w[0]), float(w[1])) == pytest.approx(p, abs=1e-9)  # ~0.1 mm
    b = crs.bd09_to_wgs84(*p)
    assert reference.wgs2bd(float(b[0]), float(b[1])) == pytest.approx(p, abs=1e-9)


def test_one_step_inverse_would_be_metres_off_in_shibei() -> None:
    lon, lat = 120.3791, 36.0962
    d_lon, d_lat = np.subtract(crs.wgs84_to_gcj02(lon, lat), (lon, lat))
    naive = np.array([lon - d_lon, lat - d_lat])
    exact = np.array(crs.gcj02_to_wgs84(lon, lat))
    error_m = np.hypot((naive[0] - exact[0]) * 90_000, (naive[1] - exact[1]) * 111_000)
    assert 0.3 < error_m < 3  # what iteration fixes


@settings(max_examples=300, deadline=None)
@given(SHIBEI, st.sampled_from(["gcj02", "bd09", "EPSG:3857", "EPSG:4549", "EPSG:4528", "cgcs2000"]))
def test_round_trip_every_system(p: tuple[float, float], name: str) -> None:
    x, y = crs.from_wgs84(*p, name)
    back = crs.to_wgs84(x, y, name)
    assert back == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize("src", crs.ACCEPTED)
@pytest.mark.parametrize("dst", crs.ACCEPTED)
def test_every_pair_through_transform(src: str, dst: str) -> None:
    p = (120.3791, 36.0962)
    x, y = crs.from_wgs84(*p, src)
    u, v = crs.transform(x, y, src, dst)
    assert crs.to_wgs84(u, v, dst) == pytest.approx(p, abs=1e-9)


def test_offsets_in_shibei_are_the_known_size() -> None:
    p = (120.3791, 36.0962)
    g = crs.from_wgs84(*p, "gcj02")
    b = crs.from_wgs84(*p, "bd09")
    metres = lambda q: np.hypot((q[0] - p[0]) * 90_000, (q[1] - p[1]) * 111_000)  # noqa: E731
    assert 350 < metres(g) < 600 and 900 < metres(b) < 1500


def test_out_of_china_has_no_offset() -> None:
    assert crs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert crs.gcj02_to_wgs84(2.35, 48.85) == pytest.approx((2.35, 48.85))


@pytest.mark.parametrize("name", ["WGS84", "Gcj02", "bd09", "epsg:4549", "EPSG:4528", "CGCS2000"])
def test_names_are_case_insensitive(name: str) -> None:
    crs.parse_crs(name)


@pytest.mark.parametrize(
    ("x", "y", "field"),
    [(float("nan"), 36.0, "lon"), (120.0, float("inf"), "lat"), (200.0, 36.0, "lon"), (120.0, -91.0, "lat")],
)
def test_bad_coordinates_name_the_field(x: float, y: float, field: str) -> None:
    with pytest.raises(InvalidCoordinates) as info:
        crs.to_wgs84(x, y, "wgs84")
    assert info.value.field == field


def test_unknown_crs() -> None:
    with pytest.raises(UnknownCRS, match="unknown crs 'EPSG:2000'"):
        crs.to_wgs84(1, 2, "EPSG:2000")

"""Straight-line coverage: the distance in metres from each place to its nearest facility.

Both sets are projected to the local Gauss–Krüger plane (EPSG:4549, CM 120°E: scale error
below 2e-5 across the district, millimetres at 500 m) and queried with a k-d tree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from geo.crs import METRIC, WGS84, transform

MAX_RADIUS_M = 20_000.0


def nearest_m(
    lon: ArrayLike, lat: ArrayLike, facility_lon: ArrayLike, facility_lat: ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """(distance in metres, index of the nearest facility) for each place; inf/-1 with no facility."""
    x, y = transform(lon, lat, WGS84, METRIC)
    places = np.column_stack([x, y])
    if np.asarray(facility_lon).size == 0:
        return np.full(len(places), np.inf), np.full(len(places), -1, dtype=np.int64)
    fx, fy = transform(facility_lon, facility_lat, WGS84, METRIC)
    distance, index = cKDTree(np.column_stack([fx, fy])).query(places, k=1)
    return np.asarray(distance, dtype=float), np.asarray(index, dtype=np.int64)

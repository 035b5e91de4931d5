"""Getis-Ord Gi* local hotspot statistics with a false-discovery-rate correction.

Gi* (Ord & Getis 1995) with binary weights that include the cell itself; z-scores equal
PySAL ``esda.G_Local(y, w, transform="B", star=True).Zs`` (checked in tests). p-values are
two-sided (esda's ``p_norm`` is the one-sided half); the Benjamini–Hochberg correction
controls the share of false hot/cold calls among all calls at ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import stats

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GiStar:
    """Getis-Ord Gi* of each cell: the z score and its two-sided p value."""

    z: FloatArray
    p: FloatArray  # two-sided, normal approximation
    q: FloatArray  # Benjamini–Hochberg adjusted p
    label: npt.NDArray[np.str_]  # "hot", "cold" or "none"


def gi_star(values: npt.ArrayLike, weights: sp.csr_matrix, alpha: float = 0.05) -> GiStar:
    """Gi* of each cell of ``values`` under binary ``weights`` (self included)."""
    x = np.asarray(values, dtype=float)
    n = x.size
    mean = x.mean()
    s = np.sqrt((x * x).mean() - mean * mean)
    w_sum = np.asarray(weights.sum(axis=1)).ravel()
    w_sq = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    lagged = weights @ x
    denominator = s * np.sqrt((n * w_sq - w_sum**2) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(denominator > 0, (lagged - mean * w_sum) / denominator, 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    q = stats.false_discovery_control(p, method="bh") if n else p
    label = np.where(q <= alpha, np.where(z > 0, "hot", "cold"), "none")
    return GiStar(z, p, q, label)

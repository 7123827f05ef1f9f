"""The profile table's sums (kernels/table.py fill_sums, built sector by
sector) against economy.profile_sums (sector order, per profile): the
same floating-point additions, so equal to the last bit."""
import numpy as np
import pytest

from coordsweep.kernels.economy import SECTOR_DTYPE, profile_sums
from coordsweep.kernels.jit import jit
from coordsweep.kernels.table import fill_sums


@jit
def _both(sec, tx, tw, tc, ref):
    fill_sums(sec, tx, tw, tc)
    for mask in range(tx.shape[0]):
        xs, ys, csum = profile_sums(sec, mask)
        ref[0, mask] = xs
        ref[1, mask] = ys / xs
        ref[2, mask] = csum


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_fill_sums_equal_profile_sums_bitwise(n):
    rng = np.random.default_rng(n)
    reordered = 0
    for _ in range(20):
        sec = np.zeros(n, SECTOR_DTYPE)
        # magnitudes far apart, so that a different order of the adds shows
        for f in ("xa", "xb", "ya", "yb", "cost"):
            sec[f] = rng.uniform(0.1, 1.0, n) * 10.0 ** rng.integers(-8, 8, n)
        tx, tw, tc = (np.full(1 << n, np.nan) for _ in range(3))
        ref = np.empty((3, 1 << n))
        _both(sec, tx, tw, tc, ref)
        assert np.array_equal(tx, ref[0])
        assert np.array_equal(tw, ref[1])
        assert np.array_equal(tc, ref[2])
        assert tc[0] == 0.0
        # the data tell orders apart: summed in reverse sector order the
        # full profile's X^ often differs in the last bits
        rev = 0.0
        for i in range(n - 1, -1, -1):
            rev += sec["xb"][i]
        reordered += rev != tx[-1]
    assert n < 3 or reordered > 0


"""The kernel's domain check, derived from the parameter table.

MODEL.md's domains are written once, in :mod:`kernels.params`; here they
become arrays indexed like the fields of :data:`kernels.params.Inputs`
(numba freezes module-level arrays into the compiled code as constants),
and :func:`block_in_domain` walks the fields of an ``Inputs`` block, so a
parameter added to the table is checked without an edit here.
"""
import math

import numpy as np
from numba import literal_unroll

from coordsweep.kernels.jit import jit
from coordsweep.kernels.params import ONE_MINUS_LABOR_SHARE, PARAMS, Inputs

assert Inputs._fields == tuple(p.name for p in PARAMS)
#: bounds per Inputs field (an upper bound 1 - labor_share is +inf here and
#: flagged in HIGH_ONE_MINUS_ALPHA)
LOW = np.array([p.low for p in PARAMS], dtype=np.float64)
LOW_CLOSED = np.array([p.low_closed for p in PARAMS], dtype=np.bool_)
HIGH = np.array([math.inf if isinstance(p.high, str) else p.high for p in PARAMS],
                dtype=np.float64)
HIGH_CLOSED = np.array([p.high_closed for p in PARAMS], dtype=np.bool_)
HIGH_ONE_MINUS_ALPHA = np.array([p.high == ONE_MINUS_LABOR_SHARE for p in PARAMS],
                                dtype=np.bool_)


@jit(inline="always")
def value_in_domain(v, lo, lo_closed, hi, hi_closed):
    """v finite and inside (lo, hi), with the closed ends included; without
    a branch, so that a loop over many values vectorises."""
    above = (v > lo) | (lo_closed & (v == lo))
    below = (v < hi) | (hi_closed & (v == hi))
    return above & below & (abs(v) < math.inf)


@jit
def _rows_in_domain(x, rows, ok, k):
    """ok[p] &= every value of row p of `rows` (P x m) is in the domain of
    parameter k. Nearly every value is: one straight pass over all of them
    (vectorised) counts those outside, and only when there are some does a
    second pass find their points."""
    lo, lo_closed = LOW[k], LOW_CLOSED[k]
    hi, hi_closed = HIGH[k], HIGH_CLOSED[k]
    if not HIGH_ONE_MINUS_ALPHA[k]:
        flat = rows.reshape(rows.size)
        outside = 0
        for q in range(flat.size):
            outside += not value_in_domain(flat[q], lo, lo_closed, hi, hi_closed)
        if outside == 0:
            return
    for p in range(rows.shape[0]):
        # the bound 1 - labor_share: the point's own
        high = 1.0 - x.labor_share[p] if HIGH_ONE_MINUS_ALPHA[k] else hi
        for j in range(rows.shape[1]):
            if not value_in_domain(rows[p, j], lo, lo_closed, high, hi_closed):
                ok[p] = False


@jit
def block_in_domain(x, ok):
    """ok[p] = every parameter of point p of the Inputs block x is in its
    domain (one pass per field: per-point fields have shape (P,), per-sector
    ones (P, N); both are read as P rows of m values)."""
    npts = ok.shape[0]
    ok[:] = True
    k = 0
    for field in literal_unroll(x):
        _rows_in_domain(x, field.reshape((npts, field.size // npts)), ok, k)
        k += 1

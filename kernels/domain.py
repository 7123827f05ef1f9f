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


@jit
def value_in_domain(v, k, alpha):
    """v finite and inside the domain of parameter k (Inputs field index);
    alpha: the point's labour share (for the bound 1 - labor_share)."""
    if not math.isfinite(v):
        return False
    if not (v >= LOW[k] if LOW_CLOSED[k] else v > LOW[k]):
        return False
    high = 1.0 - alpha if HIGH_ONE_MINUS_ALPHA[k] else HIGH[k]
    return v <= high if HIGH_CLOSED[k] else v < high


@jit
def block_in_domain(x, ok):
    """ok[p] = every parameter of point p of the Inputs block x is in its
    domain (one pass per field: per-point fields have shape (P,), per-sector
    ones (P, N); both are read as P rows of m values)."""
    npts = ok.shape[0]
    ok[:] = True
    k = 0
    for field in literal_unroll(x):
        m = field.size // npts
        rows = field.reshape((npts, m))
        for p in range(npts):
            alpha = x.labor_share[p]
            for j in range(m):
                if not value_in_domain(rows[p, j], k, alpha):
                    ok[p] = False
        k += 1

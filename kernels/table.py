"""The profile table of a block: log w and W of every full-cooperation
profile of every point where the sums stay in linear scale (every
eta_i = 0: ``pt.fast``), computed for the whole block at once.

The equilibrium search, the best equilibrium, the first best and the
per-sector analysis ask for w(S) and W(S) of the same few profiles again
and again (at N = 3 the first best alone visits all 8); each costs a log
and an exp. Here the block kernel's first pass writes, per point and
profile S (bitmask), the sums X^(S), Y^(S)/X^(S) and C(S) exactly as
``economy.binary_welfare`` adds them (sector order), then NumPy takes the
logs and exps of the whole block in SIMD lanes (a few ns each instead of
a scalar libm call), and ``binary_welfare`` / ``binary_log_wage`` read
the table.

Results do not depend on how points are blocked: the arithmetic is
elementwise, and the transcendental calls are made in place, which keeps
NumPy on one vector loop for every length and alignment (see
kernels/lockstep.py).

Points with some eta_i > 0 get a table too (kernels/etatable.py: every
profile's wage root in lock-step), filled after this module's; pt.table
then holds for them with pt.fast False, so readers that use the
linear-scale sums (equilibria.no_coordination's shortcut) check pt.fast.
"""
import numpy as np

from coordsweep.kernels.economy import profile_sums
from coordsweep.kernels.jit import jit

#: the table is kept for points of at most this many sectors (2^N
#: profiles per point; beyond, the profiles are computed one by one)
TABLE_MAX_SECTORS = 10
#: the block kernel runs on sub-blocks with at most this many table
#: entries (3 float64 arrays of P 2^N: ~6 MB)
TABLE_ENTRIES = 1 << 18


def table_size(nsec):
    """Profiles per point in the table (0: no table for N sectors)."""
    return 1 << nsec if nsec <= TABLE_MAX_SECTORS else 0


@jit(inline="always")
def fill_sums(sec, tx, tw, tc):
    """Row of one point (sec: its sectors' records): tx[S] = X^(S),
    tw[S] = Y^(S) / X^(S), tc[S] = C(S) (economy.binary_welfare's sums,
    in its order)."""
    for mask in range(tx.shape[0]):
        xs, ys, csum = profile_sums(sec, mask)
        tx[mask] = xs
        tw[mask] = ys / xs
        tc[mask] = csum


@jit
def _log_wage_rows(pt, tx):
    """tx (log X^ on entry) -> log w = log alpha + (1 - alpha)(log X^ + c0 - log L)."""
    for p in range(tx.shape[0]):
        if pt.table[p]:
            a = pt.logalpha[p]
            b = 1.0 - pt.alpha[p]
            c0 = pt.c0[p]
            logl = pt.logl[p]
            for m in range(tx.shape[1]):
                tx[p, m] = a + b * (tx[p, m] + c0 - logl)


@jit
def _welfare_rows(pt, ew, tw, tc):
    """tw (Y^/X^ on entry) -> W = w L / alpha (Y^/X^) - C; ew holds w."""
    for p in range(tw.shape[0]):
        if pt.table[p]:
            k = pt.labor[p]
            alpha = pt.alpha[p]
            for m in range(tw.shape[1]):
                tw[p, m] = ew[p, m] * k / alpha * tw[p, m] - tc[p, m]


def finish_table(pt, tx, tw, tc, ew):
    """The sums of fill_sums (rows of the points with pt.table; the other
    rows hold 1.0) -> tx = log w, tw = W, ew = w (room of tx's shape).
    pt: the block's Point records."""
    if tx.shape[1] == 0:
        return
    with np.errstate(all="ignore"):
        np.log(tx, out=tx)
        _log_wage_rows(pt, tx)
        ew[...] = tx
        np.exp(ew, out=ew)
        _welfare_rows(pt, ew, tw, tc)

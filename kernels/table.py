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
    in its order). The profiles restricted to sectors 0..j-1 are extended
    by sector j (each sum once per profile and sector: 2^(N+1) - 2 adds
    rather than N 2^N), so every sum is still added in sector order from
    0.0, as economy.profile_sums adds it."""
    tx[0] = 0.0
    tw[0] = 0.0
    tc[0] = 0.0
    for j in range(sec.lqa.shape[0]):
        half = np.int64(1) << j
        xa = sec.xa[j]
        xb = sec.xb[j]
        ya = sec.ya[j]
        yb = sec.yb[j]
        c = sec.cost[j]
        for m in range(half):
            xs = tx[m]
            ys = tw[m]
            tx[m + half] = xs + xb
            tw[m + half] = ys + yb
            tc[m + half] = tc[m] + c
            tx[m] = xs + xa
            tw[m] = ys + ya
    for m in range(tx.shape[0]):
        tw[m] = tw[m] / tx[m]


@jit
def welfare_rows(pt, ew, tw, tc):
    """tw (Y^/X^ on entry) -> W = w L / alpha (Y^/X^) - C at the points with
    a table; ew holds w (kernels/prepare.py fills both)."""
    for p in range(tw.shape[0]):
        if pt.table[p]:
            k = pt.labor[p]
            alpha = pt.alpha[p]
            for m in range(tw.shape[1]):
                tw[p, m] = ew[p, m] * k / alpha * tw[p, m] - tc[p, m]

"""The equilibrium variants (kernels/solvers.py) and their dispatch.

- ``dfs`` (code 0, the default): kernels/equilibria.py's pruned
  depth-first search and its first best over all 2^N profiles;
- ``brute`` (1): :func:`brute_equilibria`, every subset of the candidates
  tested with the equilibrium criterion, no pruning (and the same
  all-profiles first best);
- ``mitm`` (2): kernels/many.py, the count by meet-in-the-middle and the
  best equilibrium / first best by branch and bound; where those do not
  apply (tau != 0, sums outside the float range) the depth-first search
  and the all-profiles first best answer instead.

The wage variants live in kernels/wages.py, the GE-path ones in
kernels/sectors.py (``root_on_path``).
"""
import numpy as np

from coordsweep.kernels import many
from coordsweep.kernels.economy import SOLVER_EQUILIBRIA, SOLVER_PATH, binary_log_wage
from coordsweep.kernels import solvers
from coordsweep.kernels.equilibria import enumerate_equilibria, first_best, record_equilibrium
from coordsweep.kernels.jit import jit
from coordsweep.kernels.sectors import PATH_LOCKSTEP

EQ_DFS = solvers.code("equilibria", "dfs")
EQ_BRUTE = solvers.code("equilibria", "brute")
EQ_MITM = solvers.code("equilibria", "mitm")
EQ_AUTO = solvers.code("equilibria", "auto")
AUTO_DFS_MAX_SECTORS = solvers.AUTO_DFS_MAX_SECTORS


@jit
def brute_equilibria(ws, zmask, cand, ncand, record):
    """Every subset T of the candidates, tested (no pruning): S = Z u T is
    an equilibrium iff log w(S) <= min_{i in T} log wbar_i. Same returns as
    kernels/equilibria.py's enumerate_equilibria."""
    xbar = ws.sec.xbar
    count = 0
    nrec = 0
    best_mask = zmask
    best_W = -np.inf
    best_x = np.nan
    best_k = 0
    for code in range(np.int64(1) << ncand):
        mask = zmask
        bound = np.inf
        for b in range(ncand):
            if (code >> b) & 1:
                j = cand[b]
                mask |= np.int64(1) << j
                if xbar[j] < bound:
                    bound = xbar[j]
        if code != 0 and binary_log_wage(ws, mask) > bound:
            continue
        count += 1
        nrec, best_W, best_k, best_mask, best_x = record_equilibrium(
            ws, mask, record, nrec, best_W, best_k, best_mask, best_x, code == 0)
    return count, best_mask, best_W, best_x, nrec


@jit(inline="always")
def tabled_solver(scr, n):
    """The solver variants leave the points with a profile table to the
    block kernel's own passes over it (kernels/point.py
    ``solve_tabled_point`` where every eta_i = 0, kernels/etapoint.py
    ``solve_eta_point`` where some are > 0, both through
    equilibria.tabled_equilibria): the default GE-path variant (lockstep)
    and the depth-first search (dfs, or auto at N sectors), no
    equilibrium masks recorded."""
    eq = scr.status[SOLVER_EQUILIBRIA]
    return (scr.status[SOLVER_PATH] == PATH_LOCKSTEP and scr.record.shape[0] == 0
            and (eq == EQ_DFS or (eq == EQ_AUTO and n <= AUTO_DFS_MAX_SECTORS)))


@jit(inline="always")
def equilibria_and_first_best(ws, zmask, cand, ncand, active, nactive, record, stack,
                              stackx):
    """By the run's equilibrium variant: (count, best_mask, best_W,
    best_logw, nrec, fb_mask, fb_W); stack, stackx: room for the depth-first
    search (kernels/equilibria.py enumerate_equilibria)."""
    code = ws.status[SOLVER_EQUILIBRIA]
    if code == EQ_AUTO:
        code = EQ_MITM if ws.sec.k.shape[0] > AUTO_DFS_MAX_SECTORS else EQ_DFS
    if code == EQ_MITM:
        count = many.count_equilibria(ws, zmask, cand, ncand)
        ok, best_mask, best_W, best_x = many.best_equilibrium_bb(ws, zmask, cand, ncand)
        nrec = 0
        if count < 0 or not ok:
            c2, best_mask, best_W, best_x, nrec = enumerate_equilibria(
                ws, zmask, cand, ncand, record, stack, stackx)
            if count < 0:
                count = c2
        ok, fb_mask, fb_W = many.first_best_bb(ws, active, nactive)
        if not ok:
            fb_mask, fb_W = first_best(ws, active, nactive)
        return count, best_mask, best_W, best_x, nrec, fb_mask, fb_W
    if code == EQ_BRUTE:
        count, best_mask, best_W, best_x, nrec = brute_equilibria(
            ws, zmask, cand, ncand, record)
    else:
        count, best_mask, best_W, best_x, nrec = enumerate_equilibria(
            ws, zmask, cand, ncand, record, stack, stackx)
    fb_mask, fb_W = first_best(ws, active, nactive)
    return count, best_mask, best_W, best_x, nrec, fb_mask, fb_W

"""One parameter point, and a block of them: every output of MODEL.md.

``solve_point_into`` solves point p of an Inputs block and writes row p of
the Outputs; it calls one function per part of MODEL.md (no-coordination
equilibrium, equilibrium set and first best in kernels.equilibria, the
per-sector regimes in kernels.sectors, then targets and flags here).
``solve_block`` loops it over a block (serial, ``nogil``: dask supplies the
parallelism). Outputs at a point depend on that point's inputs only, so
results do not depend on how points are blocked.
"""
import math
from collections import namedtuple

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.borrow import borrow_all
from coordsweep.kernels.domain import block_in_domain
from coordsweep.kernels.economy import KIND_CAND, allocate_workspace, prepare
from coordsweep.kernels.equilibria import (
    TIE_RTOL, classify, no_coordination)
from coordsweep.kernels.jit import jit
from coordsweep.kernels.sectors import DENSE_SAMPLES, analyse_sector
from coordsweep.kernels.variants import equilibria_and_first_best

#: per-block scratch besides the workspace: the candidates and non-inert
#: sectors (index lists), V_i at S0, samples of a GE path, and room for the
#: masks of the equilibria (length 0 in the block kernel: not recorded),
#: and the depth-first search's stack (stack: positions and masks, stackx:
#: the bounds)
Scratch = namedtuple("Scratch",
                     "sec prof status cand active value_nc samples record stack stackx")


def allocate_scratch(n, record=0, solver=(0, 0, 0)):
    """Scratch for points of n sectors (record: how many equilibrium masks
    solve_point_into may write; solver: the variants' codes,
    kernels/solvers.py)."""
    sec, prof, status = allocate_workspace(n, solver)
    return Scratch(sec=sec, prof=prof, status=status,
                   cand=np.empty(n, np.int64), active=np.empty(n, np.int64),
                   value_nc=np.empty(n), samples=np.empty(DENSE_SAMPLES + 1),
                   record=np.empty(record, np.int64),
                   stack=np.empty((2, n + 1), np.int64), stackx=np.empty(n + 1))


@jit
def write_invalid(out, p, status):
    """Row p of a point outside the domains: NaN, -1, False."""
    out.wage_nc[p] = out.welfare_nc[p] = out.welfare_best_eq[p] = np.nan
    out.wage_best_eq[p] = out.welfare_fb[p] = out.coordination_gap[p] = np.nan
    out.provision_gap[p] = out.gain_ca[p] = out.gain_cluster[p] = np.nan
    out.gain_best[p] = out.fiscal_cost_nc[p] = np.nan
    out.n_equilibria[p] = 0
    out.has_partial[p] = False
    out.target_ca[p] = out.target_cluster[p] = out.target_best[p] = -1
    out.status[p] = status
    for i in range(out.regime.shape[1]):
        out.regime[p, i] = -1
        out.critical_mass[p, i] = out.partial_share[p, i] = np.nan
        out.gain_coordinate[p, i] = out.threshold_wage[p, i] = np.nan
        out.subsidy_needed[p, i] = np.nan
        out.coop_best_eq[p, i] = out.coop_fb[p, i] = False


@jit
def argmax_first(values, rtol, scale):
    """Index of the largest value; ties (within rtol of the larger of the
    two values and `scale`) go to the lower index."""
    best = 0
    for i in range(1, values.shape[0]):
        tol = rtol * max(abs(values[i]), abs(values[best]), scale)
        if values[i] > values[best] + tol:
            best = i
    return best


@jit
def targets(value_nc, theta, gain, W_nc):
    """MODEL.md "Targeting": (target_ca, target_cluster, target_best), the
    sectors with the largest V_i at S0 (comparative advantage), the highest
    theta_i (cluster) and the highest gain_coordinate_i (best)."""
    tca = argmax_first(value_nc, TIE_RTOL, 0.0)
    tcl = argmax_first(theta, 0.0, 0.0)
    # gains are welfare differences: compare them on the welfare scale
    tbe = argmax_first(gain, TIE_RTOL, abs(W_nc))
    return tca, tcl, tbe


@jit
def all_finite(out, p, kind):
    """Never a silent NaN: False when an output MODEL.md defines as a
    number at this point is not finite."""
    finite = (math.isfinite(out.wage_nc[p]) and math.isfinite(out.welfare_nc[p])
              and math.isfinite(out.welfare_best_eq[p])
              and math.isfinite(out.wage_best_eq[p])
              and math.isfinite(out.welfare_fb[p])
              and math.isfinite(out.fiscal_cost_nc[p]))
    for i in range(kind.shape[0]):
        if not math.isfinite(out.gain_coordinate[p, i]):
            finite = False
        if kind[i] == KIND_CAND:
            if not (math.isfinite(out.threshold_wage[p, i])
                    and math.isfinite(out.subsidy_needed[p, i])):
                finite = False
            r = out.regime[p, i]
            if (r == codes.COORDINATION_FAILURE or r == codes.PARTIAL_COORDINATION) \
                    and math.isnan(out.critical_mass[p, i]):
                finite = False
    return finite


@jit
def solve_point_into(x, p, valid, scr, out):
    """Solve point p of the Inputs block x (valid: it is inside the
    domains, see kernels.domain) and write row p of the Outputs out (scr:
    an allocate_scratch). Returns the number of equilibrium masks written
    into scr.record."""
    ok, ws = prepare(x, p, valid, scr.sec, scr.prof, scr.status)
    if not ok:
        write_invalid(out, p, ws.status[0])
        return 0
    n = ws.sec.kind.shape[0]
    zmask, ncand, nactive = classify(ws, scr.cand, scr.active)

    # --- no-coordination equilibrium S0 = Z ------------------------------
    x_nc, W_nc, fiscal = no_coordination(ws, zmask, scr.value_nc)
    out.wage_nc[p] = math.exp(x_nc)
    out.welfare_nc[p] = W_nc
    out.fiscal_cost_nc[p] = fiscal

    # --- stable equilibria and the best one ------------------------------
    # (and the first best; by the solver's equilibrium variant)
    count, best_mask, best_W, best_x, nrec, fb_mask, fb_W = equilibria_and_first_best(
        ws, zmask, scr.cand, ncand, scr.active, nactive, scr.record, scr.stack, scr.stackx)
    out.n_equilibria[p] = count
    out.welfare_best_eq[p] = best_W
    out.wage_best_eq[p] = math.exp(best_x)
    out.coordination_gap[p] = max(0.0, best_W - W_nc)

    # --- first best -------------------------------------------------------
    out.welfare_fb[p] = fb_W
    out.provision_gap[p] = max(0.0, fb_W - best_W)  # < 0 only within a tie
    for i in range(n):
        out.coop_best_eq[p, i] = (best_mask >> i) & 1 == 1
        out.coop_fb[p, i] = (fb_mask >> i) & 1 == 1

    # --- per-sector coordination-failure conditions ----------------------
    partial_any = False
    for i in range(n):
        r, cm, ps, gain, wbar, sub = analyse_sector(ws, i, W_nc, zmask, scr.samples)
        out.regime[p, i] = r
        out.critical_mass[p, i] = cm
        out.partial_share[p, i] = ps
        out.gain_coordinate[p, i] = gain
        out.threshold_wage[p, i] = wbar
        out.subsidy_needed[p, i] = sub
        if r == codes.PARTIAL_COORDINATION:
            partial_any = True
    out.has_partial[p] = partial_any

    # --- targeting --------------------------------------------------------
    gain = out.gain_coordinate[p]
    tca, tcl, tbe = targets(scr.value_nc, x.externality[p], gain, W_nc)
    out.target_ca[p] = tca
    out.target_cluster[p] = tcl
    out.target_best[p] = tbe
    out.gain_ca[p] = gain[tca]
    out.gain_cluster[p] = gain[tcl]
    out.gain_best[p] = gain[tbe]

    # --- never a silent NaN ----------------------------------------------
    if not all_finite(out, p, ws.sec.kind):
        ws.status[0] |= codes.NON_FINITE
    out.status[p] = ws.status[0]
    return nrec


@jit
def solve_block(x, scr, out):
    """Solve every point of the Inputs block x into the Outputs out
    (scr: an allocate_scratch for x's number of sectors)."""
    valid = np.empty(x.labor.shape[0], np.bool_)
    block_in_domain(x, valid)
    # inputs, scratch and outputs as views without reference counting
    # (kernels/borrow.py)
    xv = borrow_all(x)
    sv = borrow_all(scr)
    ov = borrow_all(out)
    for p in range(valid.shape[0]):
        solve_point_into(xv, p, valid[p], sv, ov)
